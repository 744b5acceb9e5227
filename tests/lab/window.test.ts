// The add-machine wizard in the real window (browser mode, Debian's Chromium) adding a lab host
// through the lab's manager: every step of the stepper, a screenshot of each, no secret on screen.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUILT_CLI, waitUntil, withApi } from '../cluster/harness.js';
import { launchChromium, type LaunchedBrowser } from '../support/chromium.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

const lab = inject('lab');
const root = path.resolve(import.meta.dirname, '..', '..');
const screenshots = path.join(root, 'test-results');
const h7 = lab.hosts.find((h) => h.name === 'h7');
const user = lab.users.nopasswd;

let ui: Started | undefined;
let browser: LaunchedBrowser | undefined;
let page: Page;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshots, `provision-${name}.png`), fullPage: true });
  // Screenshots are of what is drawn: no secret may be drawn.
  const drawn = await page.locator('body').innerText();
  expect(drawn).not.toContain(user.password);
}

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  ui = startProcess(process.execPath, [BUILT_CLI, '-H', lab.control, 'ui', '--port', '0']);
  const url = (await waitForOutput(ui, /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/))[0];
  browser = await launchChromium();
  page = await browser.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
});

afterAll(async () => {
  await browser?.close();
  await ui?.stop();
});

describe('the add-machine wizard', () => {
  it('adds a lab host from the Nodes page: connect, trust, facts, plan, install, joined', async () => {
    if (!h7) throw new Error('lab host h7 is missing');
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${h7.hostKeyFiles[0]}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
    await page.getByTestId('nav-nodes').click();
    await page.getByTestId('add-machine-open').click();
    await page.getByTestId('machine-target').fill(`${user.name}@${h7.address}:${h7.sshPort}`);
    await page.getByTestId('machine-password').fill(user.password);
    await expect.poll(() => page.getByTestId('machine-password').getAttribute('type')).toBe('password');
    await shot('1-connect');

    await page.getByTestId('machine-connect').click();
    await expect.poll(() => page.getByTestId('hostkey-fingerprint').textContent(), { timeout: 60_000 }).toBe(fingerprint);
    await expect.poll(() => page.getByTestId('step-trust').getAttribute('data-state')).toBe('running');
    await shot('2-trust');

    await page.getByTestId('trust-key').click();
    await expect.poll(() => page.getByTestId('step-plan').getAttribute('data-state'), { timeout: 90_000 }).toBe('running');
    expect(await page.getByTestId('facts').innerText()).toContain('sudo without a password');
    expect(await page.getByTestId('plan-steps').innerText()).toContain('Join the swarm as a worker');
    await shot('3-facts-and-plan');

    await page.getByTestId('machine-install').click();
    await expect.poll(() => page.getByTestId('step-install').getAttribute('data-state'), { timeout: 90_000 }).toMatch(/running|done/);
    await shot('4-install');
    await expect.poll(() => page.getByTestId('step-joined').getAttribute('data-state'), { timeout: 150_000 }).toBe('done');
    expect(await page.getByTestId('joined').innerText()).toMatch(/Node \w+ is Ready/);
    await page.getByTestId('raw-log').locator('summary').click();
    expect(await page.getByTestId('raw-log').innerText()).toContain('[joined]');
    await shot('5-joined');

    const node = await waitUntil('h7 Ready', async () => (await withApi(lab.control, (api) => api.nodeList())).find((n) => n.description.hostname === `${lab.prefix}-h7` && n.status.state === 'ready'));
    expect(node.role).toBe('worker');
  });

  it('shows a refusal next to the step that failed, with what to do', async () => {
    await page.getByTestId('machine-target').fill(`${lab.users.nosudo.name}@${h7?.address}:${h7?.sshPort}`);
    await page.getByTestId('machine-password').fill(lab.users.nosudo.password);
    await page.getByTestId('machine-connect').click();
    await expect.poll(() => page.getByTestId('step-plan').getAttribute('data-state'), { timeout: 90_000 }).toBe('failed');
    expect(await page.getByTestId('error-plan').innerText()).toContain(`${lab.users.nosudo.name} ALL=(ALL:ALL) ALL`);
    expect(await page.getByTestId('joined').count()).toBe(0);
    await shot('6-no-sudo');
  });
});

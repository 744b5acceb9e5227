// Browser mode end to end: the real CLI bundle serves the real renderer; Chromium reads the page.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readHostFacts } from '../../electron/agent/host-facts.js';
import { launchChromium, type LaunchedBrowser } from '../support/chromium.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const screenshots = path.join(root, 'test-results');

let workDir: string;
let ui: Started;
let url: string;
let browser: LaunchedBrowser;
let page: Page;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'skep-e2e-'));
  await mkdir(screenshots, { recursive: true });
  ui = startProcess(process.execPath, [path.join(root, 'out/cli/skep.mjs'), 'ui', '--port', '0'], {
    env: { ...process.env, SKEP_DATA_DIR: path.join(workDir, 'data'), DOCKER_HOST: `unix://${path.join(workDir, 'no-engine.sock')}` },
  });
  url = (await waitForOutput(ui, /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/))[0];
  browser = await launchChromium();
  page = await browser.browser.newPage({ viewport: { width: 1100, height: 760 } });
});

afterAll(async () => {
  await browser?.close();
  await ui?.stop();
  await rm(workDir, { recursive: true, force: true });
});

describe('browser mode', () => {
  it('prints a loopback URL with a token and refuses the same URL without it', async () => {
    expect(ui.output()).toContain('Skep is running in browser mode');
    const withoutToken = await fetch(url.replace(/\?token=.*/, ''));
    expect(withoutToken.status).toBe(401);
    const wrongToken = await fetch(url.replace(/token=.*/, 'token=guess'));
    expect(wrongToken.status).toBe(401);
  });

  it("shows this machine's real facts and that it is not in a swarm", async () => {
    const facts = await readHostFacts();
    await page.goto(url);
    await page.getByTestId('fact-hostname').waitFor();
    expect(await page.getByTestId('fact-hostname').textContent()).toBe(facts.hostname);
    expect(await page.getByTestId('fact-os').textContent()).toBe(facts.os.name);
    expect(await page.getByTestId('fact-arch').textContent()).toBe(facts.architecture);
    expect(await page.getByTestId('fact-cpus').textContent()).toBe(String(facts.cpuCount));
    expect(await page.getByTestId('fact-memory').textContent()).toMatch(/^\d+(\.\d)? (GiB|MiB|TiB)$/);
    expect(await page.getByTestId('fact-datadir').textContent()).toBe(path.join(workDir, 'data'));
    expect(await page.getByTestId('fact-engine').textContent()).toContain('no Docker Engine found');
    expect(await page.getByTestId('swarm-state').textContent()).toBe('Set up this machine');
    // First start says "not in a swarm" once (the banner), not again in the card below it.
    expect((await page.locator('main').innerText()).match(/not (in|part of) a swarm/gi)).toHaveLength(1);
    await page.screenshot({ path: path.join(screenshots, 'browser-mode-overview.png'), fullPage: true });
  });

  it('keeps the token out of the page and loads every asset under the CSP', async () => {
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('requestfailed', (request) => problems.push(`${request.url()} failed`));
    await page.reload();
    await page.getByTestId('fact-hostname').waitFor();
    expect(problems).toEqual([]);
    const token = new URL(url).searchParams.get('token') ?? '';
    expect(await page.content()).not.toContain(token);
  });
});

// The window tells the truth in every state (issue 11, items 4–7, 9, 10), in real Chromium against
// the real CLI bundle: `skep ui -H` showing a real `skep daemon` (a one-manager swarm with no Docker
// Engine), at 900×600. It checks every page for horizontal overflow and runs axe-core on each in
// light and dark; checks that focus returns after each dialog; the per-instance cookie, the Host
// check and the token leaving the address bar; and kill -9 of the daemon: the page says it can't
// reach the node, marks what it shows with its age, and reconnects by itself once the daemon is back.
// Screenshots go to test-results/ (truth-*.png).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe.js';
import { launchChromium, type LaunchedBrowser } from '../support/chromium.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const screenshots = path.join(root, 'test-results');
const cli = path.join(root, 'out/cli/skep.mjs');
const URL_PATTERN = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/;
const LISTEN = '127.0.0.71:23771';
const POLL = { timeout: 45_000, interval: 250 };

let workDir: string;
let control: string;
let noEngine: NodeJS.ProcessEnv;
let daemon: Started | undefined;
let ui: Started | undefined;
let url: string;
let browser: LaunchedBrowser;
let context: BrowserContext;
let page: Page;
const started: Started[] = [];

function startDaemon(): Promise<RegExpMatchArray> {
  daemon = startProcess(process.execPath, [cli, 'daemon', '--data-dir', path.join(workDir, 'node'), '--control', control, '--heartbeat-ms', '500'], { env: noEngine });
  started.push(daemon);
  return waitForOutput(daemon, /skep daemon is running/);
}

function skep(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, '-H', control, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: noEngine });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`skep ${args.join(' ')} exited ${code}: ${out}`))));
  });
}

async function text(testId: string): Promise<string> {
  return ((await page.getByTestId(testId).first().textContent({ timeout: 2000 }).catch(() => '')) ?? '').trim();
}

async function go(where: 'overview' | 'nodes' | 'swarm'): Promise<void> {
  await page.getByTestId(`nav-${where}`).click();
}

async function shoot(name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: path.join(screenshots, `truth-${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Wider than the window: the page scrolls sideways. */
function horizontalOverflow(): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

/** axe's serious and critical findings in both themes, as "theme: rule (targets)". */
async function axeFindings(): Promise<string[]> {
  const found: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const v of await seriousViolations(page)) found.push(`${scheme}: ${v.id} — ${v.help} (${v.targets.join(', ')})`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}

function focusedTestId(): Promise<string | null> {
  return page.evaluate<string | null>('document.activeElement?.getAttribute("data-testid") ?? null');
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'skep-e2e-truth-'));
  mkdirSync(screenshots, { recursive: true });
  control = `unix://${path.join(workDir, 'node.sock')}`;
  // A socket path where no engine listens: the node reports no Docker Engine, for real.
  noEngine = { ...process.env, DOCKER_HOST: `unix://${path.join(workDir, 'no-engine.sock')}` };
  await startDaemon();
  await skep(['swarm', 'init', '--listen-addr', LISTEN]);
  ui = startProcess(process.execPath, [cli, '-H', control, 'ui', '--port', '0'], { env: noEngine });
  started.push(ui);
  url = (await waitForOutput(ui, URL_PATTERN))[0];
  browser = await launchChromium();
  context = await browser.browser.newContext({ viewport: { width: 900, height: 600 } });
  page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('health-sentence').waitFor({ timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await Promise.all(started.map((process) => process.stop('SIGKILL').catch(() => undefined)));
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('the window at 900×600 against a real daemon', () => {
  it('takes the token out of the address bar; its cookie is named after its port; a second instance leaves it signed in', async () => {
    const port = new URL(url).port;
    expect(page.url()).not.toContain('token=');
    expect(await page.evaluate<string>('window.location.search')).toBe('');
    const cookies = await context.cookies();
    expect(cookies.map((c) => c.name)).toEqual([`skep_token_${port}`]);

    // Another Skep in the same browser (its own embedded node) sets its own cookie beside this one.
    const second = startProcess(process.execPath, [cli, 'ui', '--port', '0', '--data-dir', path.join(workDir, 'second')], { env: noEngine });
    started.push(second);
    const secondUrl = (await waitForOutput(second, URL_PATTERN))[0];
    const other = await context.newPage();
    await other.goto(secondUrl);
    await other.getByTestId('health-sentence').waitFor({ timeout: 30_000 });
    await other.close();
    await second.stop();
    expect((await context.cookies()).map((c) => c.name).sort()).toEqual([`skep_token_${port}`, `skep_token_${new URL(secondUrl).port}`].sort());

    // Reloaded (the URL has no token now): the first still gets in by its own cookie.
    await page.reload();
    await page.getByTestId('health-sentence').waitFor({ timeout: 30_000 });
  });

  it('answers only requests addressed to 127.0.0.1 or localhost at its port', async () => {
    const port = Number(new URL(url).port);
    const status = (host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: new URL(url).pathname + new URL(url).search, headers: { host } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        }).once('error', reject);
      });
    expect(await status(`127.0.0.1:${port}`)).toBe(200);
    expect(await status(`localhost:${port}`)).toBe(200);
    expect(await status(`attacker.example:${port}`)).toBe(421);
  });

  it('says a swarm without any Docker Engine can run nothing, in the banner and in the row', async () => {
    await go('overview');
    await expect.poll(() => text('health-sentence'), POLL).toBe('No Docker Engine — no node can run tasks; 1 manager, can lose none');
    expect(await text('health-chip')).toBe('Degraded');
    await go('nodes');
    await expect.poll(() => text('node-engine'), POLL).toBe('✕ No engine');
  });

  it('fits every page in 900 px with no serious or critical axe finding, in light and dark', async () => {
    for (const where of ['overview', 'nodes', 'swarm'] as const) {
      await go(where);
      if (where === 'nodes') {
        await page.locator('[data-testid="node-row"] button').first().click();
        await page.getByTestId('node-detail').waitFor();
        const close = await page.getByRole('button', { name: 'Close the details' }).boundingBox();
        expect(close && close.x + close.width).toBeLessThanOrEqual(900);
      }
      if (where === 'swarm') {
        await page.getByTestId('show-token-worker').click();
        await page.getByTestId('join-command-worker').waitFor();
      }
      expect(await horizontalOverflow(), where).toBeLessThanOrEqual(0);
      expect(await axeFindings(), where).toEqual([]);
      await shoot(where);
    }
  });

  it('wraps a long error message instead of widening the page', async () => {
    await go('nodes');
    await page.locator('[data-testid="node-row"] button').first().click();
    // A 400-character label key without a space to break at.
    await page.getByTestId('label-key').fill(`bad key ${'x'.repeat(400)}`);
    await page.getByTestId('label-value').fill('v');
    await page.getByRole('button', { name: 'Add label' }).click();
    // Accepted or refused, the status line repeats the 400-character key.
    const outcome = page.locator('[data-testid="feedback-done"], [data-testid="feedback-error"]');
    await outcome.waitFor({ timeout: 15_000 });
    expect(await outcome.textContent()).toContain('x'.repeat(400));
    expect(await horizontalOverflow()).toBeLessThanOrEqual(0);
    await shoot('long-error');
  });

  it("moves focus into a node's details, and back to the opener after each dialog", async () => {
    await go('nodes');
    await page.locator('[data-testid="node-row"] button').first().click();
    expect(await focusedTestId()).toBe('detail-heading');

    // Remove (a manager: the dialog says demote first) — Escape.
    await page.getByTestId('action-remove').click();
    await page.getByRole('dialog').waitFor();
    expect(await axeFindings()).toEqual([]);
    await shoot('dialog-remove');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await expect.poll(focusedTestId, POLL).toBe('action-remove');

    // Demote the last manager — its Cancel button.
    await page.getByTestId('action-demote').click();
    await page.getByRole('dialog').waitFor();
    await page.getByTestId('dialog-cancel').click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await expect.poll(focusedTestId, POLL).toBe('action-demote');

    // Rotate a join token — asks first; Cancel keeps the token.
    await go('swarm');
    await page.getByTestId('show-token-manager').click();
    const before = await text('join-command-manager');
    await page.getByTestId('rotate-token-manager').click();
    await page.getByTestId('dialog-rotate-token').waitFor();
    expect(await text('dialog-message')).toContain('any machine joining with it right now will fail');
    expect(await axeFindings()).toEqual([]);
    await shoot('dialog-rotate');
    await page.getByTestId('dialog-cancel').click();
    await expect.poll(focusedTestId, POLL).toBe('rotate-token-manager');
    expect(await text('join-command-manager')).toBe(before);
    await page.getByTestId('rotate-token-manager').click();
    await page.getByTestId('dialog-confirm').click();
    await expect.poll(() => text('join-command-manager'), POLL).not.toBe(before);

    // Leave — Escape.
    await page.getByTestId('leave-swarm').click();
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await expect.poll(focusedTestId, POLL).toBe('leave-swarm');
  });

  it("says it can't reach the node when the daemon is killed, shows the data's age, and reconnects by itself", async () => {
    await go('nodes');
    await page.getByTestId('nodes-table').waitFor();
    await daemon?.stop('SIGKILL');
    await page.getByTestId('connection-problem').waitFor({ timeout: 15_000 });
    expect(await text('connection-problem')).toContain("Can't reach this machine's Skep node");
    expect(await text('health-chip')).toBe('Unreachable');
    await expect.poll(() => text('connection-as-of'), POLL).toMatch(/^◷ as of [1-9]\d* s ago$/);
    await expect.poll(() => text('nodes-as-of'), POLL).toMatch(/as of \d+ s ago/);
    expect(await horizontalOverflow()).toBeLessThanOrEqual(0);
    expect(await axeFindings()).toEqual([]);
    await shoot('unreachable');

    await startDaemon();
    await page.getByTestId('connection-problem').waitFor({ state: 'detached', timeout: 45_000 });
    // The list stays marked with its age until a reload succeeds (the restarted manager first
    // elects itself), then the marker goes.
    await expect.poll(() => page.getByTestId('nodes-as-of').count(), POLL).toBe(0);
    // Live updates resume: a change made from the CLI shows up without a reload.
    await go('overview');
    await expect.poll(() => text('health-sentence'), POLL).toMatch(/1 manager, can lose none$/);
    await skep(['swarm', 'leave', '--force']);
    await expect.poll(() => text('health-sentence'), POLL).toBe('Not in a swarm');
    await shoot('reconnected');
  });
});

// The desktop UI in browser mode against a real swarm this test starts: `skep daemon` processes on
// 127.0.0.61–64 and `skep ui` (its embedded node on 127.0.0.60) joined through the page as one of
// the managers. It checks the ring, the banner through a leader's death and the loss of quorum,
// and every warning dialog with the catalog's exact words, then that confirming does what it says.
// Screenshots of each screen and dialog, in both themes, go to test-results/.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectControl } from '../../electron/cli/control-client.js';
import { skepError } from '../../shared/errors.js';
import { launchChromium, type LaunchedBrowser } from '../support/chromium.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const screenshots = path.join(root, 'test-results');
const PORT = 2377;
const POLL = { timeout: 45_000, interval: 250 };

let workDir: string;
let cli: string;
let browser: LaunchedBrowser | undefined;
let page: Page;
let uiProcess: Started | undefined;
const started: Started[] = [];

/** A `skep daemon` on its own loopback address, data directory and control socket. */
class Daemon {
  readonly control: string;
  readonly addr: string;
  id = '';
  process: Started | undefined;
  constructor(
    readonly name: string,
    ip: string,
  ) {
    this.addr = `${ip}:${PORT}`;
    this.control = `unix://${path.join(workDir, `${name}.sock`)}`;
  }

  async start(): Promise<void> {
    // No Docker Engine anywhere, as on the UI's node: the banner's engine sentence is then the same on every machine.
    this.process = startProcess(process.execPath, [cli, 'daemon', '--data-dir', path.join(workDir, this.name), '--control', this.control, '--heartbeat-ms', '500'], {
      env: { ...process.env, DOCKER_HOST: `unix://${path.join(workDir, 'no-engine.sock')}` },
    });
    started.push(this.process);
    await waitForOutput(this.process, /skep daemon is running/);
  }

  run(args: readonly string[], stdin = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cli, '-H', this.control, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.once('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`skep ${args.join(' ')} (${this.name}) exited ${code}: ${err}`))));
      child.stdin.end(stdin);
    });
  }

  async readId(): Promise<string> {
    const client = connectControl(this.control);
    try {
      const status = await client.getSwarmStatus();
      if (status.state !== 'active') throw new Error(`${this.name} is not in a swarm`);
      this.id = status.nodeId;
      return this.id;
    } finally {
      client.close();
    }
  }

  async join(token: string, remote: string): Promise<void> {
    await this.run(['swarm', 'join', '--token-stdin', '--listen-addr', this.addr, remote], token);
    await this.readId();
  }
}

let d1: Daemon;
let d2: Daemon;
let d3: Daemon;
let worker: Daemon;
let uiNodeId = '';

// ---- page objects: one class per screen, with its locators and actions ----

/** What every screen shares: reading text, waiting for it, navigating, screenshots in both themes. */
class Ui {
  constructor(readonly page: Page) {}

  async text(testId: string): Promise<string> {
    return ((await this.page.getByTestId(testId).first().textContent({ timeout: 2000 }).catch(() => '')) ?? '').trim();
  }

  /** Polls until `testId` shows `expected`; fails with the last text seen, never on a duration. */
  async waitForText(testId: string, expected: string | RegExp): Promise<void> {
    const check = expected instanceof RegExp ? (t: string) => expected.test(t) : (t: string) => t === expected;
    const deadline = Date.now() + POLL.timeout;
    for (;;) {
      const last = await this.text(testId);
      if (check(last)) return;
      if (Date.now() > deadline) throw new Error(`${testId} never showed ${String(expected)}; last: "${last}"`);
      await new Promise((resolve) => setTimeout(resolve, POLL.interval));
    }
  }

  async go(where: 'overview' | 'nodes' | 'swarm'): Promise<void> {
    await this.page.getByTestId(`nav-${where}`).click();
  }

  async shoot(name: string): Promise<void> {
    // A dialog's backdrop covers the window, not the whole page: shoot dialogs as the window shows them.
    const fullPage = (await this.page.getByRole('dialog').count()) === 0;
    for (const scheme of ['light', 'dark'] as const) {
      await this.page.emulateMedia({ colorScheme: scheme });
      await this.page.screenshot({ path: path.join(screenshots, `ui-${name}-${scheme}.png`), fullPage });
    }
    await this.page.emulateMedia({ colorScheme: 'light' });
  }
}

class OverviewScreen {
  constructor(private readonly ui: Ui) {}

  open(): Promise<void> {
    return this.ui.go('overview');
  }

  sentence(): Promise<string> {
    return this.ui.text('health-sentence');
  }

  waitForSentence(expected: string | RegExp): Promise<void> {
    return this.ui.waitForText('health-sentence', expected);
  }

  memberCount(): Promise<number> {
    return this.ui.page.getByTestId('ring-member').count();
  }

  leaderCount(): Promise<number> {
    return this.ui.page.locator('[data-testid="ring-member"][data-role="leader"]').count();
  }

  async memberIds(): Promise<string[]> {
    return (await this.ui.page.getByTestId('ring-member').evaluateAll((els) => els.map((el) => el.getAttribute('data-node-id') ?? ''))).sort();
  }

  leaderId(): Promise<string | null> {
    return this.ui.page.locator('[data-testid="ring-member"][data-role="leader"]').first().getAttribute('data-node-id', { timeout: 1000 }).catch(() => null);
  }

  reachable(id: string): Promise<string | null> {
    return this.ui.page.locator(`[data-testid="ring-member"][data-node-id="${id}"]`).getAttribute('data-reachable', { timeout: 1000 }).catch(() => null);
  }

  ringBox(): Promise<{ x: number; y: number; width: number; height: number } | null> {
    return this.ui.page.getByTestId('raft-ring').boundingBox();
  }

  async recover(): Promise<void> {
    await this.ui.page.getByTestId('recover-quorum').click();
  }
}

class NodesScreen {
  constructor(private readonly ui: Ui) {}

  open(): Promise<void> {
    return this.ui.go('nodes');
  }

  rowCount(id?: string): Promise<number> {
    return this.ui.page.locator(id === undefined ? '[data-testid="node-row"]' : `[data-testid="node-row"][data-node-id="${id}"]`).count();
  }

  /** Opens the node's detail from its ID button. */
  async openNode(id: string): Promise<void> {
    await this.open();
    await this.ui.page.locator(`[data-testid="node-row"][data-node-id="${id}"] button`).click();
    await this.ui.waitForText('detail-id', id);
  }

  async act(action: 'promote' | 'demote' | 'remove'): Promise<void> {
    await this.ui.page.getByTestId(`action-${action}`).click();
  }

  async setAvailability(availability: 'active' | 'pause' | 'drain'): Promise<void> {
    await this.ui.page.getByTestId(`availability-${availability}`).click();
    await this.ui.waitForText('detail-availability', availability);
  }

  async addLabel(key: string, value: string): Promise<void> {
    await this.ui.page.getByTestId('label-key').fill(key);
    await this.ui.page.getByTestId('label-value').fill(value);
    await this.ui.page.getByRole('button', { name: 'Add label' }).click();
    await this.ui.waitForText('detail-labels', new RegExp(`${key}=${value}`));
  }

  async removeLabel(key: string): Promise<void> {
    await this.ui.page.getByRole('button', { name: `Remove label ${key}` }).click();
  }

  labelCount(): Promise<number> {
    return this.ui.page.getByTestId('detail-labels').locator('li').count();
  }
}

class SwarmScreen {
  constructor(private readonly ui: Ui) {}

  open(): Promise<void> {
    return this.ui.go('swarm');
  }

  async fillJoin(token: string, remoteAddr: string, listenAddr: string): Promise<void> {
    await this.ui.page.getByTestId('join-token').fill(token);
    await this.ui.page.getByTestId('join-remote').fill(remoteAddr);
    await this.ui.page.getByTestId('join-listen').fill(listenAddr);
  }

  async submitJoin(): Promise<void> {
    await this.ui.page.getByTestId('join-submit').click();
  }

  role(): Promise<string> {
    return this.ui.text('swarm-role');
  }

  nodeId(): Promise<string> {
    return this.ui.text('swarm-node-id');
  }

  async showToken(role: 'worker' | 'manager'): Promise<void> {
    await this.ui.page.getByTestId(`show-token-${role}`).click();
  }

  /** Rotating asks first (running joins with the old token will fail); this confirms. */
  async rotateToken(role: 'worker' | 'manager'): Promise<void> {
    await this.ui.page.getByTestId(`rotate-token-${role}`).click();
    await this.ui.page.getByTestId('dialog-rotate-token').getByTestId('dialog-confirm').click();
  }

  joinCommand(role: 'worker' | 'manager'): Promise<string> {
    return this.ui.text(`join-command-${role}`);
  }

  async leave(): Promise<void> {
    await this.open();
    await this.ui.page.getByTestId('leave-swarm').click();
  }
}

class WarningDialogObject {
  constructor(private readonly ui: Ui) {}

  /** Waits for the dialog of `kind`; checks it is a modal dialog with the catalog's exact words. */
  async expect(kind: string, message?: string): Promise<void> {
    const dialog = this.ui.page.getByTestId(`dialog-${kind}`);
    await dialog.waitFor({ timeout: 15_000 });
    expect(await dialog.getAttribute('role')).toBe('dialog');
    expect(await dialog.getAttribute('aria-modal')).toBe('true');
    if (message !== undefined) expect(await this.ui.text('dialog-message')).toBe(message);
    // The destructive button is never where focus starts.
    expect(await this.ui.page.evaluate('document.activeElement?.hasAttribute("data-destructive") ?? true')).toBe(false);
  }

  async text(kind: string): Promise<string> {
    return (await this.ui.page.getByTestId(`dialog-${kind}`).textContent()) ?? '';
  }

  hasConfirm(): Promise<number> {
    return this.ui.page.getByTestId('dialog-confirm').count();
  }

  async escape(kind: string): Promise<void> {
    await this.ui.page.keyboard.press('Escape');
    await this.ui.page.getByTestId(`dialog-${kind}`).waitFor({ state: 'detached' });
  }

  async cancel(kind: string): Promise<void> {
    await this.ui.page.getByTestId('dialog-cancel').click();
    await this.ui.page.getByTestId(`dialog-${kind}`).waitFor({ state: 'detached' });
  }

  /** Confirm is disabled until the name is typed; then it does what it says. */
  async confirmTyped(kind: string, name: string): Promise<void> {
    const confirm = this.ui.page.getByTestId('dialog-confirm');
    expect(await confirm.isDisabled()).toBe(true);
    await this.ui.page.getByTestId('dialog-type-name').fill(name);
    expect(await confirm.isDisabled()).toBe(false);
    await confirm.click();
    await this.ui.page.getByTestId(`dialog-${kind}`).waitFor({ state: 'detached' });
  }
}

let ui: Ui;
let overview: OverviewScreen;
let nodesScreen: NodesScreen;
let swarm: SwarmScreen;
let dialog: WarningDialogObject;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'skep-ui-e2e-'));
  mkdirSync(screenshots, { recursive: true });
  // Run a copy of the build, so a rebuild of out/ during the test can't pull files from under it.
  if (!existsSync(path.join(root, 'out/cli/skep.mjs'))) throw new Error('out/ is missing: run node build/scripts/build.mjs --quiet');
  cpSync(path.join(root, 'out/cli'), path.join(workDir, 'out/cli'), { recursive: true });
  cpSync(path.join(root, 'out/renderer'), path.join(workDir, 'out/renderer'), { recursive: true });
  symlinkSync(path.join(root, 'node_modules'), path.join(workDir, 'node_modules'));
  cli = path.join(workDir, 'out/cli/skep.mjs');

  d1 = new Daemon('d1', '127.0.0.61');
  d2 = new Daemon('d2', '127.0.0.62');
  d3 = new Daemon('d3', '127.0.0.63');
  worker = new Daemon('w', '127.0.0.64');
  uiProcess = startProcess(process.execPath, [cli, 'ui', '--port', '0', '--data-dir', path.join(workDir, 'ui')], {
    env: { ...process.env, DOCKER_HOST: `unix://${path.join(workDir, 'no-engine.sock')}` },
  });
  started.push(uiProcess);
  await Promise.all([d1.start(), d2.start(), d3.start(), worker.start()]);
  const url = (await waitForOutput(uiProcess, /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/))[0];

  await d1.run(['swarm', 'init', '--listen-addr', d1.addr]);
  await d1.readId();

  browser = await launchChromium();
  page = await browser.browser.newPage({ viewport: { width: 1100, height: 760 } });
  await page.goto(url);
  ui = new Ui(page);
  overview = new OverviewScreen(ui);
  nodesScreen = new NodesScreen(ui);
  swarm = new SwarmScreen(ui);
  dialog = new WarningDialogObject(ui);
  await overview.waitForSentence('Not in a swarm');
}, 180_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  // Every process by its own pid.
  await Promise.all(started.map((process) => process.stop().catch(() => undefined)));
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('the UI against a real swarm', () => {
  it('joins this node as a manager from the Swarm page with a pasted token', async () => {
    const managerToken = await d1.run(['swarm', 'join-token', '-q', 'manager']);
    await swarm.open();
    await swarm.fillJoin(managerToken, d1.addr, `127.0.0.60:${PORT}`);
    await ui.shoot('swarm-join');
    await swarm.submitJoin();
    await ui.waitForText('swarm-role', 'manager');
    uiNodeId = await swarm.nodeId();
    expect(uiNodeId).toMatch(/^\w+$/);

    await d2.join(managerToken, d1.addr);
    await worker.join(await d1.run(['swarm', 'join-token', '-q', 'worker']), d1.addr);
  });

  it('shows the join tokens, and rotating one replaces it', async () => {
    await swarm.showToken('worker');
    await ui.waitForText('join-command-worker', /^skep swarm join --token SKEP-\S+ 127\.0\.0\.6\d:\d+$/);
    const before = await swarm.joinCommand('worker');
    await swarm.rotateToken('worker');
    await expect.poll(async () => (await swarm.joinCommand('worker')) !== before, POLL).toBe(true);
    await ui.shoot('swarm-tokens');
  });

  it('draws the ring with 3 managers and one leader, and says the swarm is healthy', async () => {
    await overview.open();
    await expect.poll(() => overview.memberCount(), POLL).toBe(3);
    await overview.waitForSentence('No Docker Engine — no node can run tasks; 3 managers, can lose 1');
    expect(await overview.leaderCount()).toBe(1);
    expect(await overview.leaderId()).toBe(d1.id);
    expect(await overview.memberIds()).toEqual([d1.id, d2.id, uiNodeId].sort());
    await ui.shoot('overview');
    // The smallest window the app supports.
    await ui.page.setViewportSize({ width: 900, height: 600 });
    await ui.shoot('overview-900x600');
    await ui.page.setViewportSize({ width: 1100, height: 760 });
    await nodesScreen.open();
    await expect.poll(() => nodesScreen.rowCount(), POLL).toBe(4);
    await ui.shoot('nodes');
  });

  it('removing a manager offers "demote, then remove", and confirming does it', async () => {
    const managerToken = await d1.run(['swarm', 'join-token', '-q', 'manager']);
    await d3.join(managerToken, d1.addr);
    await expect.poll(() => nodesScreen.rowCount(d3.id), POLL).toBe(1);
    await nodesScreen.openNode(d3.id);
    await nodesScreen.act('remove');
    await dialog.expect('remove-manager', skepError('REMOVE_MANAGER', d3.id).message);
    await ui.shoot('dialog-remove-manager');
    await dialog.escape('remove-manager');
    expect(await nodesScreen.rowCount(d3.id)).toBe(1);

    await nodesScreen.act('remove');
    await dialog.expect('remove-manager');
    await dialog.confirmTyped('remove-manager', d3.id);
    await expect.poll(() => nodesScreen.rowCount(d3.id), POLL).toBe(0);
    await d3.process?.stop();
    await overview.open();
    await expect.poll(() => overview.memberCount(), POLL).toBe(3);
  });

  it('removing a node that is not down offers force, and confirming removes it', async () => {
    await nodesScreen.openNode(worker.id);
    await nodesScreen.act('remove');
    await dialog.expect('remove-not-down', skepError('REMOVE_NODE_NOT_DOWN', worker.id).message);
    expect(await dialog.text('remove-not-down')).toContain('The machine keeps running its containers');
    await ui.shoot('dialog-remove-not-down');
    await dialog.escape('remove-not-down');
    expect(await nodesScreen.rowCount(worker.id)).toBe(1);

    await nodesScreen.act('remove');
    await dialog.expect('remove-not-down');
    await dialog.confirmTyped('remove-not-down', worker.id);
    await expect.poll(() => nodesScreen.rowCount(worker.id), POLL).toBe(0);
    await worker.process?.stop();
  });

  it('drains, pauses and activates a node, and adds and removes its labels', async () => {
    await nodesScreen.openNode(d2.id);
    for (const availability of ['drain', 'pause', 'active'] as const) await nodesScreen.setAvailability(availability);
    await nodesScreen.addLabel('zone', 'attic');
    await ui.shoot('node-detail');
    await nodesScreen.removeLabel('zone');
    await expect.poll(() => nodesScreen.labelCount(), POLL).toBe(0);
  });

  it('asks before leaving when leaving is safe, and Cancel keeps the node in', async () => {
    await swarm.leave();
    await dialog.expect('leave');
    await dialog.cancel('leave');
    expect(await swarm.role()).toBe('manager');
  });

  it('shows the new leader after kill -9 of the leader', async () => {
    await overview.open();
    expect(await overview.leaderId()).toBe(d1.id);
    const ringBefore = await overview.ringBox();
    await d1.process?.stop('SIGKILL');
    await expect.poll(async () => {
      const leader = await overview.leaderId();
      return leader !== null && leader !== d1.id;
    }, POLL).toBe(true);
    expect([d2.id, uiNodeId]).toContain(await overview.leaderId());
    await expect.poll(() => overview.reachable(d1.id), POLL).toBe('false');
    await overview.waitForSentence('Quorum at risk — 2 of 3 managers reachable, can lose none');
    await ui.waitForText('ring-leader', `leader ${((await overview.leaderId()) ?? '').slice(0, 12)}`);
    // Live updates change words and marks, never the layout.
    expect(await overview.ringBox()).toEqual(ringBefore);
    await ui.shoot('overview-new-leader');
  });

  it('warns that leaving now loses quorum, with the N-of-M math', async () => {
    await swarm.leave();
    await dialog.expect('leave-loses-quorum', skepError('LEAVE_LOSES_QUORUM', 1, 3).message);
    // Counted as every manager-count dialog counts (shared/quorum.ts): the leaving manager is out of both numbers.
    expect(await dialog.text('leave-loses-quorum')).toContain('Without this node: 1 of 2 managers reachable — not enough for a quorum of 2.');
    expect(await dialog.text('leave-loses-quorum')).toContain('Fault tolerance: 2 of 3 managers reachable, can lose none → 1 of 2 managers reachable, no quorum.');
    await ui.shoot('dialog-leave-loses-quorum');
    await dialog.escape('leave-loses-quorum');
  });

  it('refuses a demotion that would lose quorum, and says why', async () => {
    await nodesScreen.openNode(d2.id);
    await nodesScreen.act('demote');
    await dialog.expect('demote-loses-quorum', skepError('DEMOTE_LOSES_QUORUM').message);
    expect(await dialog.hasConfirm()).toBe(0);
    await ui.shoot('dialog-demote-loses-quorum');
    await dialog.escape('demote-loses-quorum');
  });

  it('says "Quorum lost" when a second manager stops', async () => {
    await d2.process?.stop();
    await overview.open();
    await overview.waitForSentence("Quorum lost — 1 of 3 managers reachable; the swarm can't change");
    await ui.shoot('overview-quorum-lost');
    // The node list can't be refreshed without a leader: it says how old it is, and the stopped
    // manager it last saw Ready is shown as Unknown, never "Ready" beside "Unreachable".
    await nodesScreen.open();
    await ui.page.getByTestId('nodes-as-of').waitFor({ timeout: POLL.timeout });
    expect(await ui.text('nodes-as-of')).toMatch(/as of \d+ (s|min) ago/);
    const d2Row = ui.page.locator(`[data-testid="node-row"][data-node-id="${d2.id}"]`);
    await expect.poll(async () => (await d2Row.textContent()) ?? '', POLL).toMatch(/Unknown|Down/);
    expect(await d2Row.textContent()).not.toMatch(/Ready.*Unreachable/);
    await ui.shoot('nodes-quorum-lost');
    await overview.open();
  });

  it('offers force-new-cluster recovery, and confirming rebuilds the swarm around this manager', async () => {
    await overview.recover();
    await dialog.expect('quorum-lost', skepError('NO_LEADER').message);
    expect(await dialog.text('quorum-lost')).toContain('skep swarm init --force-new-cluster');
    await ui.shoot('dialog-quorum-lost');
    await dialog.confirmTyped('quorum-lost', uiNodeId);
    await expect.poll(() => overview.memberCount(), POLL).toBe(1);
    await expect.poll(() => overview.leaderId(), POLL).toBe(uiNodeId);
    await expect.poll(async () => (await overview.sentence()).startsWith('Quorum lost'), POLL).toBe(false);
    await ui.shoot('overview-recovered');
  });

  it('refuses to demote the last manager, and says why', async () => {
    await nodesScreen.openNode(uiNodeId);
    await nodesScreen.act('demote');
    await dialog.expect('demote-last-manager', skepError('DEMOTE_LAST_MANAGER').message);
    await ui.shoot('dialog-demote-last-manager');
    await dialog.escape('demote-last-manager');
  });

  it('leaving as the last manager needs the name typed, and erases the swarm', async () => {
    await swarm.leave();
    await dialog.expect('leave-last-manager', skepError('LEAVE_LAST_MANAGER').message);
    await ui.shoot('dialog-leave-last-manager');
    await dialog.escape('leave-last-manager');
    await swarm.leave();
    await dialog.expect('leave-last-manager');
    await dialog.confirmTyped('leave-last-manager', uiNodeId);
    await overview.open();
    await overview.waitForSentence('Not in a swarm');
    await ui.shoot('overview-not-in-swarm');
  });

  it('starts a new swarm from the Swarm page, with this node as its first manager', async () => {
    await swarm.open();
    await ui.page.getByTestId('init-listen').fill(`127.0.0.60:${PORT + 1}`);
    await ui.page.getByTestId('init-submit').click();
    await ui.waitForText('swarm-role', 'manager');
    const newId = await swarm.nodeId();
    expect(newId).not.toBe(uiNodeId);
    await overview.open();
    await overview.waitForSentence('No Docker Engine — no node can run tasks; 1 manager, can lose none');
    await expect.poll(() => overview.leaderId(), POLL).toBe(newId);
    expect(await overview.memberCount()).toBe(1);
  });
});

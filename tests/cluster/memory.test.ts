// What a worker never uses, a worker daemon never loads (issue 12, "Memory"): the manager (Raft, the
// store, the control API…) and provisioning (ssh2) are loaded on first use, and the daemon says so in
// its debug log ("daemon: loaded on first use"). Real daemons from the built CLI; what the bundle runs
// at start-up is checked in tests/unit/node/lazy-loading.test.ts, memory itself by
// `npm run bench -- --only memory` (never asserted here).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, expectOk, sleep, waitUntil, type SkepNode } from './harness.js';

function loadedParts(node: SkepNode): string[] {
  return [...node.logs().matchAll(/daemon: loaded on first use \{"part":"(\w+)"\}/g)].map((m) => m[1] ?? '');
}

describe('a worker daemon loads only what a worker uses', () => {
  const cluster = new Cluster({ subnet: 47, heartbeatMs: 500, debug: true });
  let m1: SkepNode, w1: SkepNode;

  beforeAll(async () => {
    [m1, w1] = (await cluster.add(2)) as [SkepNode, SkepNode];
    await cluster.init(m1);
    await cluster.join(w1, 'worker', m1);
    await cluster.waitForNodes(m1, 'both nodes Ready', (nodes) => nodes.length === 2 && nodes.every((n) => n.status.state === 'ready'));
  }, 120_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('a manager loaded the manager on init; a joined, Ready worker loaded nothing on demand', async () => {
    // Several heartbeats (500 ms) more, so whatever the worker would load while idle has had its chance.
    await sleep(3000);
    expect(loadedParts(m1)).toEqual(['manager']);
    expect(loadedParts(w1), w1.logs()).toEqual([]);
  });

  test('the worker loads provisioning on its first machine command, and it works', async () => {
    expectOk(await w1.cli('machine', 'ls'), 'machine ls on the worker');
    expect(loadedParts(w1)).toEqual(['provision']);
  });

  test('promoted, the worker loads the manager and serves as one', async () => {
    expectOk(await m1.cli('node', 'promote', w1.id), 'node promote');
    await waitUntil('the promoted node answering node ls', async () => (await w1.nodes()).length === 2, { timeoutMs: 30_000 });
    expect(loadedParts(w1)).toEqual(['provision', 'manager']);
  });
});

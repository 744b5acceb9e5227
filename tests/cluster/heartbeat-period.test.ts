// A node beats at the period the managers expect, whatever it was started with: the managers mark a
// node Down after three of their own periods, so a node configured slower (or an older default)
// would flap between Ready and Down. The period travels in every heartbeat answer, as Swarm's.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, sleep, type SkepNode } from './harness.js';

describe('the heartbeat period comes from the managers', () => {
  const cluster = new Cluster({ subnet: 40, heartbeatMs: 300 });
  let manager: SkepNode, slow: SkepNode;

  beforeAll(async () => {
    [manager] = (await cluster.add(1)) as [SkepNode];
    // Started with a period five times the manager's Down threshold (3 × 300 ms).
    [slow] = (await cluster.add(1, { heartbeatMs: 5000 })) as [SkepNode];
    await cluster.init(manager);
    await cluster.join(slow, 'worker', manager);
    await cluster.waitForNodes(manager, 'the worker Ready', (nodes) => nodes.some((n) => n.id === slow.id && n.status.state === 'ready'));
  }, 120_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('a node started with a slower period stays Ready: it beats at the managers\' period', async () => {
    const seen = new Set<string>();
    const deadline = Date.now() + 8000; // 26 of the manager's periods, one and a half of the node's own
    while (Date.now() < deadline) {
      const node = (await manager.nodes()).find((n) => n.id === slow.id);
      seen.add(`${node?.status.state}: ${node?.status.message}`);
      await sleep(150);
    }
    expect([...seen]).toEqual(['ready: ']);
  });
});

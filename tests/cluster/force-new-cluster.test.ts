// Scenario 7: recovery after losing two of three managers. `swarm init --force-new-cluster` on the survivor
// builds a one-manager group from its local state, keeping nodes, labels and tokens; new managers can then be
// promoted and joined.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skepError } from '../../shared/errors.js';
import { Cluster, daemonErrorLine, expectOk, labelAdd, managerCounts, type SkepNode } from './harness.js';

describe('swarm init --force-new-cluster after losing two of three managers', () => {
  const cluster = new Cluster({ subnet: 35, heartbeatMs: 500 });
  let m1: SkepNode, m2: SkepNode, m3: SkepNode, w1: SkepNode, fresh: SkepNode;
  let workerToken = '';
  let managerToken = '';

  beforeAll(async () => {
    [m1, m2, m3, w1, fresh] = (await cluster.add(5)) as [SkepNode, SkepNode, SkepNode, SkepNode, SkepNode];
    await cluster.init(m1);
    await cluster.join(m2, 'manager', m1);
    await cluster.join(m3, 'manager', m1);
    await cluster.join(w1, 'worker', m1);
    await cluster.waitForNodes(m1, '1 leader, 2 reachable, 4 ready', (nodes) => {
      const c = managerCounts(nodes);
      return c.leaders === 1 && c.reachable === 2 && c.ready === 4;
    });
    for (const node of [m1, m2, m3, w1]) expectOk(await labelAdd(m1, node.id, 'name', node.name), `label ${node.name}`);
    expectOk(await m1.cli('node', 'update', '--availability', 'drain', w1.id), 'drain the worker');
    workerToken = await cluster.token(m1, 'worker');
    managerToken = await cluster.token(m1, 'manager');
  }, 120_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('the survivor of three managers cannot write until it forces a new cluster', async () => {
    const leader = await cluster.waitForLeader([m1, m2, m3]);
    // The survivor is a follower, so it must take over without having led.
    const survivor = [m1, m2, m3].find((m) => m !== leader) as SkepNode;
    const lost = [m1, m2, m3].filter((m) => m !== survivor);
    // Make sure the survivor has applied the labels before the others die.
    const applied = (await survivor.api((api) => api.nodeInspect(w1.id))).spec;
    expect(applied).toMatchObject({ availability: 'drain', labels: { name: w1.name } });
    await Promise.all(lost.map((m) => m.kill9()));

    const refusedWrite = await labelAdd(survivor, w1.id, 'too', 'soon');
    expect(refusedWrite).toEqual({ code: 1, stdout: '', stderr: daemonErrorLine(skepError('NO_LEADER').message) });

    const result = await survivor.cli('swarm', 'init', '--force-new-cluster', '--listen-addr', survivor.addr);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Swarm initialized: current node (${survivor.id}) is now a manager.`);

    const leaderNow = await cluster.waitForLeader([survivor]);
    expect(leaderNow).toBe(survivor);
    expect(await survivor.status()).toMatchObject({ state: 'active', role: 'manager', nodeId: survivor.id, leaderId: survivor.id, managers: 1, reachableManagers: 1 });

    // Old nodes, labels, availability and tokens are intact.
    const nodes = await survivor.nodes();
    expect(nodes.map((n) => n.id).sort()).toEqual([m1.id, m2.id, m3.id, w1.id].sort());
    for (const node of [m1, m2, m3, w1]) expect(nodes.find((n) => n.id === node.id)?.spec.labels.name).toBe(node.name);
    expect(nodes.find((n) => n.id === w1.id)?.spec.availability).toBe('drain');
    expect(await cluster.token(survivor, 'worker')).toBe(workerToken);
    expect(await cluster.token(survivor, 'manager')).toBe(managerToken);
    // The lost managers are no longer Raft voters; the worker follows the new leader by itself.
    await cluster.waitForNodes(survivor, 'the worker Ready, the lost managers Down', (list) =>
      list.find((n) => n.id === w1.id)?.status.state === 'ready' && lost.every((m) => list.find((n) => n.id === m.id)?.status.state === 'down'));
    expect(managerCounts(await survivor.nodes())).toMatchObject({ leaders: 1, reachable: 0 });

    expectOk(await labelAdd(survivor, w1.id, 'after', 'recovery'), 'a write after force-new-cluster');
  });

  test('new managers: the worker is promoted and a fresh node joins with the old manager token', async () => {
    const survivor = await cluster.waitForLeader([m1, m2, m3].filter((m) => m.running));
    expectOk(await survivor.cli('node', 'promote', w1.id), 'promote the worker');
    expectOk(await cluster.joinWith(fresh, managerToken, survivor), 'join a new manager with the old manager token');
    fresh.id = ((await fresh.status()) as { nodeId: string }).nodeId;
    const nodes = await cluster.waitForNodes(survivor, '1 leader, 2 reachable', (list) => {
      const c = managerCounts(list);
      return c.leaders === 1 && c.reachable === 2;
    }, 60_000);
    expect(nodes.filter((n) => n.managerStatus?.reachability === 'reachable').map((n) => n.id).sort()).toEqual([survivor.id, w1.id, fresh.id].sort());
    // The new group has quorum with three voters and keeps taking writes through every manager.
    for (const via of [survivor, w1, fresh]) expectOk(await labelAdd(via, fresh.id, `via-${via.name}`, 'ok'), `a write through ${via.name}`);
    expect(await survivor.status()).toMatchObject({ managers: 3, reachableManagers: 3 });
  });
});

// The scheduling pass: batches, spread, placement preferences, preassigned (global) tasks, and the
// "no suitable node (…)" texts; plus seeded property checks of the spread.
import { describe, expect, it } from 'vitest';
import type { PlacementNode } from '../../../shared/constraints.js';
import type { Service, Task } from '../../../shared/services.js';
import { schedule, type SchedulingResult } from '../../../electron/swarm/scheduler/index.js';
import { T0, iso, node, seeded, service, spec, status, task } from '../../support/swarm-services.js';

function pendingTasks(svc: Service, n: number, from = 1): Task[] {
  return Array.from({ length: n }, (_, i) => task(svc, { id: `${svc.id}-${String(from + i).padStart(4, '0')}`, slot: from + i }));
}

function runningOn(svc: Service, nodeId: string, n: number, tag = nodeId): Task[] {
  return Array.from({ length: n }, (_, i) => task(svc, { id: `${svc.id}-run-${tag}-${i}`, nodeId, slot: 1000 + i, status: status('running', T0) }));
}

function countBy(result: SchedulingResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of result.assignments) counts[a.nodeId] = (counts[a.nodeId] ?? 0) + 1;
  return counts;
}

const threeNodes = [node('n1'), node('n2'), node('n3')];

describe('schedule', () => {
  it('decides 100 tasks in one pass and spreads them evenly', () => {
    const svc = service('web', spec());
    const result = schedule({ nodes: threeNodes, tasks: pendingTasks(svc, 100), now: T0 });
    expect(result.assignments).toHaveLength(100);
    expect(result.updates).toHaveLength(100);
    expect(result.pending).toHaveLength(0);
    expect(countBy(result)).toEqual({ n1: 34, n2: 33, n3: 33 });
    expect(result.assignments[0]!.status).toMatchObject({ state: 'assigned', message: 'scheduler assigned task to node', err: '', timestamp: iso(T0) });
  });

  it('fills the nodes with the fewest tasks of the service first, then the fewest tasks overall', () => {
    const web = service('web', spec());
    const other = service('db', spec({ name: 'db' }));
    const tasks = [...runningOn(web, 'n1', 4), ...runningOn(web, 'n2', 1), ...runningOn(other, 'n3', 3), ...pendingTasks(web, 5)];
    const result = schedule({ nodes: threeNodes, tasks, now: T0 });
    // n3 (no copy) and n2 (one) catch up first; on equal copies n2, with fewer tasks overall, goes first:
    // n3 +1, n2 +1, n3 +1, n2 +1, n3 +1 → 4, 3, 3 copies.
    expect(countBy(result)).toEqual({ n2: 2, n3: 3 });
    expect(result.assignments.map((a) => a.nodeId)).toEqual(['n3', 'n2', 'n3', 'n2', 'n3']);
    const one = schedule({ nodes: [node('n2'), node('n3')], tasks: [...runningOn(other, 'n3', 3), ...pendingTasks(web, 1)], now: T0 });
    expect(one.assignments[0]!.nodeId).toBe('n2');
  });

  it('leaves a task pending with Swarm’s explanation when no node fits', () => {
    const svc = service('web', spec({ taskTemplate: { container: { image: 'busybox' }, placement: { constraints: ['node.labels.zone==a'] }, resources: { reservations: { nanoCpus: 3e9 } } } }));
    const nodes = [
      node('n1', { labels: { zone: 'b' } }),
      node('n2', { labels: { zone: 'b' } }),
      node('n3'),
      node('n4', { labels: { zone: 'a' }, resources: { nanoCpus: 2e9, memoryBytes: 1e9 } }),
    ];
    const result = schedule({ nodes, tasks: pendingTasks(svc, 2), now: T0 });
    expect(result.assignments).toHaveLength(0);
    expect(result.pending.map((p) => p.status.err)).toEqual([
      'no suitable node (scheduling constraints not satisfied on 3 nodes; insufficient resources on 1 node)',
      'no suitable node (scheduling constraints not satisfied on 3 nodes; insufficient resources on 1 node)',
    ]);
    expect(result.pending[0]!.status).toMatchObject({ state: 'pending', message: 'pending task scheduling' });

    // Asked again with nothing changed, the pass proposes nothing.
    const stored = pendingTasks(svc, 2).map((t, i) => ({ ...t, status: result.pending[i]!.status }));
    const again = schedule({ nodes, tasks: stored, now: T0 + 1000 });
    expect(again.pending).toHaveLength(2);
    expect(again.updates).toHaveLength(0);
  });

  it('says "no suitable node" with no reason when there are no nodes', () => {
    const svc = service('web', spec());
    expect(schedule({ nodes: [], tasks: pendingTasks(svc, 1), now: T0 }).pending[0]!.status.err).toBe('no suitable node');
  });

  it('places what fits and explains the rest (max replicas per node)', () => {
    const svc = service('web', spec({ taskTemplate: { container: { image: 'busybox' }, placement: { maxReplicas: 1 } } }));
    const result = schedule({ nodes: threeNodes, tasks: pendingTasks(svc, 5), now: T0 });
    expect(countBy(result)).toEqual({ n1: 1, n2: 1, n3: 1 });
    expect(result.pending.map((p) => p.status.err)).toEqual([
      'no suitable node (max replicas per node limit exceed)',
      'no suitable node (max replicas per node limit exceed)',
    ]);
  });

  it('puts one host-mode published port per node', () => {
    const svc = service('web', spec({ endpointSpec: { ports: [{ targetPort: 80, publishedPort: 8080 }] } }));
    const result = schedule({ nodes: threeNodes, tasks: [...runningOn(svc, 'n1', 1), ...pendingTasks(svc, 3)], now: T0 });
    expect(countBy(result)).toEqual({ n2: 1, n3: 1 });
    expect(result.pending[0]!.status.err).toBe('no suitable node (host-mode port already in use on 3 nodes)');
  });

  it('counts the reservations of tasks placed earlier in the same batch', () => {
    const svc = service('web', spec({ taskTemplate: { container: { image: 'busybox' }, resources: { reservations: { memoryBytes: 3 * 1024 ** 3 } } } }));
    const result = schedule({ nodes: [node('n1'), node('n2')], tasks: pendingTasks(svc, 5), now: T0 });
    expect(countBy(result)).toEqual({ n1: 2, n2: 2 });
    expect(result.pending[0]!.status.err).toBe('no suitable node (insufficient resources on 2 nodes)');
  });

  it('spreads over node.labels values before nodes (--placement-pref spread=node.labels.zone)', () => {
    const svc = service('web', spec({ taskTemplate: { container: { image: 'busybox' }, placement: { preferences: [{ spread: 'node.labels.zone' }] } } }));
    const nodes = [node('a1', { labels: { zone: 'a' } }), node('a2', { labels: { zone: 'a' } }), node('b1', { labels: { zone: 'b' } })];
    const result = schedule({ nodes, tasks: pendingTasks(svc, 6), now: T0 });
    expect(countBy(result)).toEqual({ a1: 2, a2: 1, b1: 3 });
    // Two levels: zone, then rack inside the zone.
    const two = service('two', spec({ name: 'two', taskTemplate: { container: { image: 'busybox' }, placement: { preferences: [{ spread: 'node.labels.zone' }, { spread: 'node.labels.rack' }] } } }));
    const racks = [
      node('a-r1', { labels: { zone: 'a', rack: '1' } }),
      node('a-r2', { labels: { zone: 'a', rack: '2' } }),
      node('a-r2b', { labels: { zone: 'a', rack: '2' } }),
      node('b-r1', { labels: { zone: 'b', rack: '1' } }),
    ];
    const r = schedule({ nodes: racks, tasks: pendingTasks(two, 8), now: T0 });
    expect(countBy(r)).toEqual({ 'a-r1': 2, 'a-r2': 1, 'a-r2b': 1, 'b-r1': 4 });
  });

  it('treats nodes without the label as one more branch, and balances against what already runs', () => {
    const svc = service('web', spec({ taskTemplate: { container: { image: 'busybox' }, placement: { preferences: [{ spread: 'node.labels.zone' }] } } }));
    const nodes = [node('a1', { labels: { zone: 'a' } }), node('none')];
    const result = schedule({ nodes, tasks: [...runningOn(svc, 'a1', 2), ...pendingTasks(svc, 4)], now: T0 });
    expect(countBy(result)).toEqual({ a1: 1, none: 3 });
  });

  it('checks a global service’s task against its own node only', () => {
    const svc = service('agent', spec({ name: 'agent', mode: { kind: 'global' }, taskTemplate: { container: { image: 'busybox' }, resources: { reservations: { nanoCpus: 3e9 } } } }));
    const tasks = [
      task(svc, { id: 'g1', slot: 0, nodeId: 'n1' }),
      task(svc, { id: 'g2', slot: 0, nodeId: 'n2' }),
      ...runningOn(service('busy', spec({ name: 'busy', taskTemplate: { container: { image: 'x' }, resources: { reservations: { nanoCpus: 2e9 } } } })), 'n2', 1),
    ];
    const result = schedule({ nodes: threeNodes, tasks, now: T0 });
    expect(result.assignments).toEqual([{ taskId: 'g1', nodeId: 'n1', status: expect.objectContaining({ state: 'assigned', message: 'scheduler confirmed task can run on preassigned node' }) }]);
    expect(result.pending).toEqual([{ taskId: 'g2', nodeId: 'n2', status: expect.objectContaining({ state: 'pending', err: 'insufficient resources on 1 node' }) }]);
  });

  it('shuts down a task nobody wants any more before it was ever placed', () => {
    const svc = service('web', spec());
    const result = schedule({ nodes: threeNodes, tasks: [task(svc, { id: 'gone', desiredState: 'shutdown', status: status('pending', T0) })], now: T0 });
    expect(result.assignments).toHaveLength(0);
    expect(result.updates).toEqual([{ taskId: 'gone', nodeId: '', status: expect.objectContaining({ state: 'shutdown' }) }]);
  });

  it('ignores tasks that finished and does not count them on their node', () => {
    const svc = service('web', spec());
    const finished = runningOn(svc, 'n1', 5).map((t) => ({ ...t, status: status('complete', T0) }));
    const result = schedule({ nodes: [node('n1'), node('n2')], tasks: [...finished, ...pendingTasks(svc, 2)], now: T0 });
    expect(countBy(result)).toEqual({ n1: 1, n2: 1 });
  });

  it('tries last a node where the service failed five times in the last five minutes', () => {
    const svc = service('web', spec());
    const failures = Array.from({ length: 5 }, (_, i) => task(svc, { id: `f${i}`, nodeId: 'n1', slot: 1, status: status('failed', T0 - 60_000) }));
    const result = schedule({ nodes: [node('n1'), node('n2')], tasks: [...failures, ...pendingTasks(svc, 1)], now: T0 });
    expect(result.assignments[0]!.nodeId).toBe('n2');
    const old = failures.map((t) => ({ ...t, status: status('failed', T0 - 10 * 60_000) }));
    const later = schedule({ nodes: [node('n1'), node('n2')], tasks: [...old, ...pendingTasks(svc, 1)], now: T0 });
    expect(later.assignments[0]!.nodeId).toBe('n1');
  });
});

describe('spread, property checks (seeded)', () => {
  function randomCase(seed: number): { nodes: PlacementNode[]; tasks: Task[]; svc: Service } {
    const rnd = seeded(seed);
    const svc = service('web', spec());
    const other = service('other', spec({ name: 'other' }));
    const nodeCount = 1 + Math.floor(rnd() * 12);
    const nodes: PlacementNode[] = [];
    const tasks: Task[] = [];
    for (let i = 0; i < nodeCount; i++) {
      const r = rnd();
      const n = node(`n${String(i).padStart(2, '0')}`, { state: r < 0.1 ? 'down' : 'ready', availability: r > 0.9 ? 'drain' : r > 0.85 ? 'pause' : 'active' });
      nodes.push(n);
      tasks.push(...runningOn(svc, n.id, Math.floor(rnd() * 4), `w${i}`), ...runningOn(other, n.id, Math.floor(rnd() * 4), `o${i}`));
    }
    tasks.push(...pendingTasks(svc, 1 + Math.floor(rnd() * 60)));
    return { nodes, tasks, svc };
  }

  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('seed %i: only eligible nodes, the batch evens out, and the pass is deterministic', (seed) => {
    const { nodes, tasks, svc } = randomCase(seed);
    const result = schedule({ nodes, tasks, now: T0 });
    const eligible = new Set(nodes.filter((n) => n.state === 'ready' && n.availability === 'active').map((n) => n.id));
    const pendingCount = tasks.filter((t) => t.status.state === 'new').length;
    if (eligible.size === 0) {
      expect(result.assignments).toHaveLength(0);
      expect(result.pending).toHaveLength(pendingCount);
      expect(result.pending.every((p) => p.status.err.startsWith('no suitable node (') && p.status.err.includes('not available for new tasks'))).toBe(true);
      return;
    }
    expect(result.assignments).toHaveLength(pendingCount);
    expect(result.assignments.every((a) => eligible.has(a.nodeId))).toBe(true);
    // After the pass, the service's copies on eligible nodes differ by at most one, unless a node
    // already had more before the pass (Swarm never moves running tasks).
    const counts = new Map<string, number>([...eligible].map((id) => [id, 0]));
    for (const t of tasks) if (t.serviceId === svc.id && t.status.state === 'running' && counts.has(t.nodeId)) counts.set(t.nodeId, counts.get(t.nodeId)! + 1);
    const before = new Map(counts);
    for (const a of result.assignments) counts.set(a.nodeId, counts.get(a.nodeId)! + 1);
    const min = Math.min(...counts.values());
    for (const [id, c] of counts) {
      if (c > min + 1) expect(result.assignments.some((a) => a.nodeId === id)).toBe(false);
      if (before.get(id)! < c) expect(c).toBeLessThanOrEqual(min + 1);
    }
    expect(schedule({ nodes: [...nodes].reverse(), tasks: [...tasks].reverse(), now: T0 })).toEqual(result);
  });
});

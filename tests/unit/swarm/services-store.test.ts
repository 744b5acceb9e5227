// Services and tasks in the replicated store, and the leader's services loop over it: versions are
// Raft indexes, a whole pass is one entry, agents' reports only move a task forward and only for the
// reporting node's own tasks, old snapshots restore with empty tables.
import { describe, expect, it } from 'vitest';
import { serviceSpecSchema } from '../../../shared/service-schema.js';
import { SkepError } from '../../../shared/errors.js';
import { noopLogger } from '../../../electron/net/index.js';
import { AssignmentSet, BOUNDS, METHODS } from '../../../electron/protocol/index.js';
import { ServiceControl } from '../../../electron/swarm/controlapi/services.js';
import { assignmentsFor, nodesWithChangedAssignments, statusCommand } from '../../../electron/swarm/dispatcher/assignments.js';
import { ServicesLoop } from '../../../electron/swarm/services-loop.js';
import { servicesOf, SwarmStore, tasksOf, type SwarmState } from '../../../electron/swarm/state/store.js';
import { nodeId, nodeRecord, storeWith } from './fixtures.js';

const M = nodeId('m1');
const W = nodeId('w1');
let ids = 0;
const newId = (): string => `t${String(++ids)}`.padEnd(25, '0');

async function swarm() {
  const { store, proposer } = await storeWith(nodeRecord(M, { role: 'manager' }), [nodeRecord(W)]);
  const services = new ServiceControl({ state: () => store.state, proposer, readBarrier: async () => undefined, newId });
  return { store, proposer, services };
}

function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(check, 5);
    };
    check();
  });
}

describe('services in the store', () => {
  it('create, update and remove carry the Raft index as version and spec version', async () => {
    const { store, services } = await swarm();
    const { id } = await services.create({ name: 'web', taskTemplate: { container: { image: 'busybox:1' } } });
    const created = servicesOf(store.state)[id]!;
    expect(created.version).toBe(3);
    expect(created.specVersion).toBe(3);
    await services.scale('web', 3);
    const scaled = servicesOf(store.state)[id]!;
    expect([scaled.version, scaled.specVersion, scaled.previousSpecVersion]).toEqual([4, 4, 3]);
    expect(scaled.spec.mode).toEqual({ kind: 'replicated', replicas: 3 });
    expect(await services.remove(id.slice(0, 6))).toBe(id);
    expect(servicesOf(store.state)).toEqual({});
  });

  it('refuses a taken name, an unknown service and a bad spec with Docker\'s texts, changing nothing', async () => {
    const { store, services } = await swarm();
    await services.create({ name: 'web', taskTemplate: { container: { image: 'busybox:1' } } });
    const before = store.state;
    await expect(services.create({ name: 'web', taskTemplate: { container: { image: 'busybox:1' } } })).rejects.toThrow('rpc error: code = AlreadyExists desc = name conflicts with an existing object');
    await expect(services.inspect('nope')).rejects.toThrow('service nope not found');
    await expect(services.create({ name: 'db', taskTemplate: { container: { image: 'Bad Image' } } })).rejects.toThrow('ContainerSpec: "Bad Image" is not a valid repository/tag');
    await expect(services.create({ name: 'db', taskTemplate: { container: { image: 'busybox:1' }, placement: { constraints: ['node.role'] } } })).rejects.toThrow('constraint expected one operator from ==, !=');
    expect(store.state).toBe(before);
  });

  it('an old snapshot without services restores with empty tables', () => {
    const store = new SwarmStore();
    store.restore(new TextEncoder().encode(JSON.stringify({ cluster: null, nodes: {}, removed: [] })), 7);
    expect(servicesOf(store.state)).toEqual({});
    expect(tasksOf(store.state)).toEqual({});
  });
});

describe('the services loop on the leader', () => {
  it('creates and places all replicas in one entry, then acts on agents\' reports', async () => {
    const { store, proposer, services } = await swarm();
    const loop = new ServicesLoop({ state: () => store.state, watch: (l) => store.watch(l), proposer, logger: noopLogger });
    loop.start();
    try {
      await services.create({ name: 'web', mode: { kind: 'replicated', replicas: 4 }, taskTemplate: { container: { image: 'busybox:1' } } });
      await until(() => Object.values(tasksOf(store.state)).filter((t) => t.status.state === 'assigned').length === 4);
      const batches = proposer.proposed.filter((c) => c.op === 'tasks.batch');
      expect(batches).toHaveLength(1);
      const tasks = Object.values(tasksOf(store.state));
      expect(tasks.map((t) => t.slot).sort()).toEqual([1, 2, 3, 4]);
      // Spread: two on each node.
      expect(tasks.filter((t) => t.nodeId === W)).toHaveLength(2);
      // Entries 1–3: cluster, worker, service; the pass is entry 4.
      expect(new Set(tasks.map((t) => t.version))).toEqual(new Set([4]));

      // The worker's agent sees its two tasks, reports one running; a report for the manager's task is refused.
      const mine = assignmentsFor(store.state, W);
      expect(mine.tasks.map((t) => t.desiredState)).toEqual(['RUNNING', 'RUNNING']);
      // What the dispatcher sends passes the protocol's own schema.
      expect(AssignmentSet.safeParse(mine).success).toBe(true);
      expect(mine.tasks[0]!.spec.image).toBe('busybox:1');
      const theirs = tasks.find((t) => t.nodeId === M)!;
      expect(() => statusCommand(store.state, W, [{ taskId: theirs.id, state: 'RUNNING', message: 'started', timestamp: new Date().toISOString() }])).toThrow(SkepError);
      const running = statusCommand(store.state, W, [{ taskId: mine.tasks[0]!.id, state: 'RUNNING', message: 'started', containerId: 'c1', timestamp: new Date().toISOString() }])!;
      await proposer.propose(running);
      expect(tasksOf(store.state)[mine.tasks[0]!.id]!.status.state).toBe('running');
      // A replayed older report never moves it back.
      await proposer.propose({ op: 'task.status', nodeId: W, reports: [{ taskId: mine.tasks[0]!.id, status: { state: 'preparing', timestamp: new Date().toISOString(), message: 'preparing', err: '' } }] });
      expect(tasksOf(store.state)[mine.tasks[0]!.id]!.status.state).toBe('running');

      // The container died: the slot gets a new task (after the restart delay the loop wakes for).
      await proposer.propose({ op: 'task.status', nodeId: W, reports: [{ taskId: mine.tasks[0]!.id, status: { state: 'failed', timestamp: new Date().toISOString(), message: 'started', err: 'task: non-zero exit (137)' } }] });
      const slot = tasksOf(store.state)[mine.tasks[0]!.id]!.slot;
      await until(() => Object.values(tasksOf(store.state)).filter((t) => t.slot === slot).length === 2);
      const replacement = Object.values(tasksOf(store.state)).find((t) => t.slot === slot && t.id !== mine.tasks[0]!.id)!;
      expect(replacement.origin).toBe('restart');
    } finally {
      loop.stop();
    }
  });

  it('scaling down marks the surplus REMOVE and tells the nodes that lost tasks', async () => {
    const { store, proposer, services } = await swarm();
    const loop = new ServicesLoop({ state: () => store.state, watch: (l) => store.watch(l), proposer, logger: noopLogger });
    const told: string[][] = [];
    store.watch((change) => {
      const nodes = nodesWithChangedAssignments(change.previous, change.state);
      if (nodes.size > 0) told.push([...nodes].sort());
    });
    loop.start();
    try {
      await services.create({ name: 'web', mode: { kind: 'replicated', replicas: 2 }, taskTemplate: { container: { image: 'busybox:1' } } });
      await until(() => Object.values(tasksOf(store.state)).filter((t) => t.status.state === 'assigned').length === 2);
      expect(told.at(-1)).toEqual([M, W].sort());
      await services.scale('web', 1);
      await until(() => Object.values(tasksOf(store.state)).filter((t) => t.desiredState === 'remove').length === 1);
      const removed = Object.values(tasksOf(store.state)).find((t) => t.desiredState === 'remove')!;
      expect(told.at(-1)).toEqual([removed.nodeId]);
      expect(assignmentsFor(store.state, removed.nodeId).tasks.find((t) => t.id === removed.id)?.desiredState).toBe('REMOVE');
    } finally {
      loop.stop();
    }
  });

  it('a spec the schema accepts round-trips through the store unchanged', async () => {
    const { store, services } = await swarm();
    const spec = serviceSpecSchema.parse({ name: 'api', taskTemplate: { container: { image: 'busybox:1', env: ['A=1'] } } });
    const { id } = await services.create(spec);
    const state: SwarmState = store.state;
    expect(servicesOf(state)[id]!.spec).toEqual(spec);
  });
});

describe('the dispatch protocol\'s bounds', () => {
  const report = { taskId: 't'.padEnd(25, '0'), state: 'RUNNING', message: 'started', timestamp: '2026-11-29T20:00:00.000Z' };
  it('a status batch holds at most BOUNDS.reportsPerBatch reports and at least one', () => {
    const body = METHODS['dispatcher.updateTaskStatus'].body;
    expect(body.safeParse({ reports: Array.from({ length: BOUNDS.reportsPerBatch }, () => report) }).success).toBe(true);
    expect(body.safeParse({ reports: Array.from({ length: BOUNDS.reportsPerBatch + 1 }, () => report) }).success).toBe(false);
    expect(body.safeParse({ reports: [] }).success).toBe(false);
  });

  it('a report carries no node ID and no unknown state', () => {
    const body = METHODS['dispatcher.updateTaskStatus'].body;
    expect(body.safeParse({ reports: [{ ...report, nodeId: W }] }).success).toBe(false);
    expect(body.safeParse({ reports: [{ ...report, state: 'WINNING' }] }).success).toBe(false);
  });
});

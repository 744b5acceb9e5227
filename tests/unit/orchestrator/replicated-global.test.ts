// Replicated and global reconciliation, node loss and drain, the constraint enforcer and removal — one
// orchestrator pass at a time over plain data.
import { describe, expect, it } from 'vitest';
import type { PlacementNode } from '../../../shared/constraints.js';
import type { Service, Task } from '../../../shared/services.js';
import { orchestrate, scaleDownOrder, type OrchestratorChange } from '../../../electron/swarm/orchestrator/index.js';
import { T0, iso, node, service, spec, status, task } from '../../support/swarm-services.js';

function pass(services: Service[], tasks: Task[], nodes: PlacementNode[], now = T0): { changes: readonly OrchestratorChange[]; nextRunAt: number | null } {
  let n = 0;
  return orchestrate({ services, tasks, nodes }, { now, newId: () => `new${++n}` });
}

const created = (changes: readonly OrchestratorChange[]): Task[] => changes.flatMap((c) => (c.op === 'task.create' ? [c.task] : []));
const desired = (changes: readonly OrchestratorChange[]): Record<string, string> =>
  Object.fromEntries(changes.flatMap((c) => (c.op === 'task.desiredState' ? [[c.taskId, c.desiredState]] : [])));
const deleted = (changes: readonly OrchestratorChange[]): string[] => changes.flatMap((c) => (c.op === 'task.delete' ? [c.taskId] : []));

const nodes = [node('n1'), node('n2'), node('n3')];
const runningTask = (svc: Service, id: string, slot: number, nodeId: string, extra: Partial<Task> = {}): Task =>
  task(svc, { id, slot, nodeId, status: status('running', T0), ...extra });

describe('replicated services', () => {
  it('creates one task per missing slot, numbered 1..N, in state NEW with desired RUNNING', () => {
    const svc = service('web', spec({ mode: { kind: 'replicated', replicas: 3 } }));
    const { changes, nextRunAt } = pass([svc], [], nodes);
    const tasks = created(changes);
    expect(tasks.map((t) => t.slot)).toEqual([1, 2, 3]);
    expect(tasks[0]).toMatchObject({ serviceId: 'web', serviceName: 'web', nodeId: '', desiredState: 'running', origin: 'service', specVersion: 1, status: { state: 'new', message: 'created' }, createdAt: iso(T0) });
    expect(tasks[0]!.spec).toEqual(svc.spec.taskTemplate);
    expect(nextRunAt).toBeNull();
  });

  it('fills the lowest free slot numbers when scaling up', () => {
    const svc = service('web', spec({ mode: { kind: 'replicated', replicas: 4 } }));
    const { changes } = pass([svc], [runningTask(svc, 'a', 1, 'n1'), runningTask(svc, 'b', 3, 'n2')], nodes);
    expect(created(changes).map((t) => t.slot)).toEqual([2, 4]);
  });

  it('does nothing when the service has what it asks for', () => {
    const svc = service('web', spec({ mode: { kind: 'replicated', replicas: 2 } }));
    expect(pass([svc], [runningTask(svc, 'a', 1, 'n1'), runningTask(svc, 'b', 2, 'n2')], nodes).changes).toEqual([]);
  });

  it('scales down from the nodes with the most copies, tasks that are not running first', () => {
    const svc = service('web', spec({ mode: { kind: 'replicated', replicas: 3 } }));
    const tasks = [
      runningTask(svc, 'a', 1, 'n1'),
      runningTask(svc, 'b', 2, 'n1'),
      runningTask(svc, 'c', 3, 'n1'),
      runningTask(svc, 'd', 4, 'n2'),
      runningTask(svc, 'e', 5, 'n2', { status: status('starting', T0) }),
      runningTask(svc, 'f', 6, 'n3'),
    ];
    expect(desired(pass([svc], tasks, nodes).changes)).toEqual({ b: 'remove', c: 'remove', e: 'remove' });
  });

  it('orders scale-down candidates as Swarm does', () => {
    const svc = service('web', spec());
    const slots = [
      [runningTask(svc, 'x', 1, 'n1')],
      [runningTask(svc, 'y', 2, '', { status: status('pending', T0) })],
      [runningTask(svc, 'z', 3, 'n1')],
      [runningTask(svc, 'w', 4, 'n2', { status: status('assigned', T0) })],
    ];
    expect(scaleDownOrder(slots).map((s) => s[0]!.id)).toEqual(['x', 'w', 'z', 'y']);
  });

  it('reaps removed tasks once their agents stopped them', () => {
    const svc = service('web', spec({ mode: { kind: 'replicated', replicas: 1 } }));
    const tasks = [
      runningTask(svc, 'a', 1, 'n1'),
      runningTask(svc, 'b', 2, 'n1', { desiredState: 'remove' }),
      runningTask(svc, 'c', 3, 'n1', { desiredState: 'remove', status: status('shutdown', T0) }),
      task(svc, { id: 'd', slot: 4, desiredState: 'remove', status: status('pending', T0) }),
    ];
    const { changes } = pass([svc], tasks, nodes);
    expect(deleted(changes)).toEqual(['c', 'd']);
    expect(created(changes)).toEqual([]);
  });

  it('marks every task of a removed service REMOVE, then reaps them as they stop', () => {
    const svc = service('web', spec());
    const tasks = [runningTask(svc, 'a', 1, 'n1'), task(svc, { id: 'b', slot: 2 })];
    const { changes } = pass([], tasks, nodes);
    expect(desired(changes)).toEqual({ a: 'remove' });
    expect(deleted(changes)).toEqual(['b']);
  });

  it('replaces the tasks of a node that went down, elsewhere, after the restart delay', () => {
    const svc = service('web', spec({ mode: { kind: 'replicated', replicas: 2 } }));
    const tasks = [runningTask(svc, 'a', 1, 'n1'), runningTask(svc, 'b', 2, 'n2')];
    const down = [node('n1', { state: 'down' }), node('n2'), node('n3')];
    const { changes, nextRunAt } = pass([svc], tasks, down);
    expect(desired(changes)).toEqual({ a: 'shutdown' });
    const [replacement] = created(changes);
    expect(replacement).toMatchObject({ slot: 1, nodeId: '', desiredState: 'ready', origin: 'restart', delayedStart: { notBefore: iso(T0 + 5000) } });
    // The node is down: nothing to wait for but the delay.
    expect(replacement!.delayedStart!.replaces).toBeUndefined();
    expect(nextRunAt).toBe(T0 + 5000);
  });

  it('moves a drained node’s tasks at once (no restart delay) and starts them when the old ones stop', () => {
    const svc = service('web', spec({ mode: { kind: 'replicated', replicas: 1 } }));
    const drained = [node('n1', { availability: 'drain' }), node('n2')];
    const first = pass([svc], [runningTask(svc, 'a', 1, 'n1')], drained);
    const [replacement] = created(first.changes);
    expect(replacement).toMatchObject({ desiredState: 'ready', delayedStart: { notBefore: iso(T0), replaces: 'a' } });
    // The old task still runs: wait for it (up to a minute).
    const old = { ...runningTask(svc, 'a', 1, 'n1'), desiredState: 'shutdown' as const };
    const waiting = pass([svc], [old, replacement!], drained, T0 + 1000);
    expect(desired(waiting.changes)).toEqual({});
    expect(waiting.nextRunAt).toBe(T0 + 60_000);
    const stopped = { ...old, status: status('shutdown', T0 + 2000) };
    expect(desired(pass([svc], [stopped, replacement!], drained, T0 + 2000).changes)).toEqual({ [replacement!.id]: 'running' });
    // A minute later it starts even if the old task never reports.
    expect(desired(pass([svc], [old, replacement!], drained, T0 + 60_000).changes)).toEqual({ [replacement!.id]: 'running' });
  });

  it('rejects a task whose node no longer meets the constraints, then restarts it', () => {
    const svc = service('web', spec({ mode: { kind: 'replicated', replicas: 1 }, taskTemplate: { container: { image: 'busybox' }, placement: { constraints: ['node.labels.disk==ssd'] } } }));
    const { changes } = pass([svc], [runningTask(svc, 'a', 1, 'n1')], [node('n1', { labels: { disk: 'hdd' } })]);
    const rejected = changes.find((c) => c.op === 'task.status');
    expect(rejected).toEqual({ op: 'task.status', taskId: 'a', status: expect.objectContaining({ state: 'rejected', message: 'task rejected by constraint enforcer', err: 'assigned node no longer meets constraints' }) });
    expect(desired(changes)).toEqual({ a: 'shutdown' });
    expect(created(changes)).toHaveLength(1);
  });

  it('leaves tasks alone on a paused node', () => {
    const svc = service('web', spec({ mode: { kind: 'replicated', replicas: 1 } }));
    expect(pass([svc], [runningTask(svc, 'a', 1, 'n1')], [node('n1', { availability: 'pause' })]).changes).toEqual([]);
  });
});

describe('global services', () => {
  const globalSvc = (extra = {}): Service => service('g', spec({ name: 'agent', mode: { kind: 'global' }, ...extra }));

  it('puts one task on each ready, non-drained node, bound to that node', () => {
    const svc = globalSvc();
    const all = [node('n1'), node('n2', { state: 'down' }), node('n3', { availability: 'drain' }), node('n4', { availability: 'pause' }), node('n5')];
    const tasks = created(pass([svc], [], all).changes);
    expect(tasks.map((t) => [t.nodeId, t.slot])).toEqual([
      ['n1', 0],
      ['n5', 0],
    ]);
  });

  it('follows the constraints', () => {
    const svc = globalSvc({ taskTemplate: { container: { image: 'busybox' }, placement: { constraints: ['node.role==manager'] } } });
    const all = [node('n1', { role: 'manager' }), node('n2')];
    expect(created(pass([svc], [], all).changes).map((t) => t.nodeId)).toEqual(['n1']);
  });

  it('adds a task when a node joins and shuts it down when the node leaves, goes down or is drained', () => {
    const svc = globalSvc();
    const tasks = [runningTask(svc, 'a', 0, 'n1'), runningTask(svc, 'b', 0, 'n2'), runningTask(svc, 'c', 0, 'n3')];
    const joined = pass([svc], tasks, [node('n1'), node('n2'), node('n3'), node('n4')]);
    expect(created(joined.changes).map((t) => t.nodeId)).toEqual(['n4']);
    const { changes } = pass([svc], tasks, [node('n1', { state: 'down' }), node('n2', { availability: 'drain' })]);
    expect(desired(changes)).toEqual({ a: 'shutdown', b: 'shutdown', c: 'shutdown' });
    expect(created(changes)).toEqual([]);
  });

  it('restarts a global task that exited on the same node', () => {
    const svc = globalSvc();
    const { changes } = pass([svc], [runningTask(svc, 'a', 0, 'n1', { status: status('failed', T0) })], [node('n1')]);
    expect(desired(changes)).toEqual({ a: 'shutdown' });
    expect(created(changes)).toEqual([expect.objectContaining({ nodeId: 'n1', slot: 0, origin: 'restart', desiredState: 'ready' })]);
  });

  it('does not restart on a paused node', () => {
    const svc = globalSvc();
    const { changes } = pass([svc], [runningTask(svc, 'a', 0, 'n1', { status: status('failed', T0) })], [node('n1', { availability: 'pause' })]);
    expect(desired(changes)).toEqual({ a: 'shutdown' });
    expect(created(changes)).toEqual([]);
  });
});

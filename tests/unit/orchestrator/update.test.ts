// Rolling update and rollback: parallelism, delay, order, monitor, max failure ratio and each failure
// action, with Swarm's update states and messages; and an update that survives a leader change.
import { describe, expect, it } from 'vitest';
import type { PlacementNode } from '../../../shared/constraints.js';
import type { Service, ServiceSpec, Task, UpdateConfig } from '../../../shared/services.js';
import { orchestrate, type OrchestratorChange } from '../../../electron/swarm/orchestrator/index.js';
import { SimSwarm, T0, iso, node, service, spec, status, task } from '../../support/swarm-services.js';

const nodes: PlacementNode[] = [node('n1'), node('n2'), node('n3')];

function pass(services: Service[], tasks: Task[], now = T0): { changes: readonly OrchestratorChange[]; nextRunAt: number | null } {
  let n = 0;
  return orchestrate({ services, tasks, nodes }, { now, newId: () => `new${++n}` });
}

const created = (changes: readonly OrchestratorChange[]): Task[] => changes.flatMap((c) => (c.op === 'task.create' ? [c.task] : []));
const desired = (changes: readonly OrchestratorChange[]): Record<string, string> =>
  Object.fromEntries(changes.flatMap((c) => (c.op === 'task.desiredState' ? [[c.taskId, c.desiredState]] : [])));
const statusChange = (changes: readonly OrchestratorChange[]) => changes.find((c) => c.op === 'service.updateStatus' || c.op === 'service.rollback');

function withImage(s: ServiceSpec, image: string): ServiceSpec {
  return { ...s, taskTemplate: { ...s.taskTemplate, container: { ...s.taskTemplate.container, image } } };
}

/** A service at spec version 2 (image v2) whose tasks still run version 1 (image v1). */
function updated(replicas: number, update: Partial<UpdateConfig>, extra: Partial<Service> = {}): { svc: Service; old: Task[] } {
  const v1 = spec({ image: 'app:v1', mode: { kind: 'replicated', replicas }, updateConfig: update, rollbackConfig: update });
  const before = service('web', v1);
  const svc = service('web', withImage(v1, 'app:v2'), { specVersion: 2, previousSpec: v1, previousSpecVersion: 1, ...extra });
  const old = Array.from({ length: replicas }, (_, i) => task(before, { id: `old${i + 1}`, slot: i + 1, nodeId: `n${(i % 3) + 1}`, status: status('running', T0 - 60_000) }));
  return { svc, old };
}

describe('rolling update', () => {
  it('starts: "update in progress", then replaces `parallelism` slots stop-first', () => {
    const { svc, old } = updated(4, { parallelism: 2 });
    const { changes } = pass([svc], old);
    expect(statusChange(changes)).toEqual({ op: 'service.updateStatus', serviceId: 'web', updateStatus: { state: 'updating', message: 'update in progress', startedAt: iso(T0) } });
    expect(desired(changes)).toEqual({ old1: 'shutdown', old2: 'shutdown' });
    const fresh = created(changes);
    expect(fresh.map((t) => [t.slot, t.origin, t.desiredState, t.delayedStart?.replaces, t.spec.container.image])).toEqual([
      [1, 'update', 'ready', 'old1', 'app:v2'],
      [2, 'update', 'ready', 'old2', 'app:v2'],
    ]);
  });

  it('updates every slot at once with parallelism 0', () => {
    const { svc, old } = updated(5, { parallelism: 0 });
    expect(created(pass([svc], old).changes)).toHaveLength(5);
  });

  it('start-first: the new task starts at once and the old one stops only when the new one runs', () => {
    const { svc, old } = updated(1, { order: 'start-first' });
    const first = pass([svc], old);
    const [fresh] = created(first.changes);
    expect(fresh).toMatchObject({ desiredState: 'running', slot: 1 });
    expect(desired(first.changes)).toEqual({});
    const started = { ...svc, updateStatus: { state: 'updating' as const, message: 'update in progress', startedAt: iso(T0) } };
    const coming = { ...fresh!, nodeId: 'n2', status: status('starting', T0 + 1000) };
    expect(desired(pass([started], [...old, coming], T0 + 1000).changes)).toEqual({});
    const runs = { ...coming, status: status('running', T0 + 2000, { startedAt: iso(T0 + 2000) }) };
    expect(desired(pass([started], [...old, runs], T0 + 2000).changes)).toEqual({ old1: 'shutdown' });
  });

  it('waits for a batch to run, plus the update delay, before the next batch', () => {
    const { svc, old } = updated(3, { parallelism: 1, delayMs: 10_000 });
    const started = { ...svc, updateStatus: { state: 'updating' as const, message: 'update in progress', startedAt: iso(T0) } };
    const shut = old.map((t, i) => (i === 0 ? { ...t, desiredState: 'shutdown' as const, status: status('shutdown', T0 + 500) } : t));
    const fresh = task(svc, { id: 'u1', slot: 1, nodeId: 'n1', origin: 'update', createdAt: iso(T0), status: status('starting', T0 + 1000) });
    expect(created(pass([started], [...shut, fresh], T0 + 1000).changes)).toEqual([]);
    const runs = { ...fresh, status: status('running', T0 + 2000, { startedAt: iso(T0 + 2000) }) };
    const during = pass([started], [...shut, runs], T0 + 5000);
    expect(created(during.changes)).toEqual([]);
    expect(during.nextRunAt).toBe(T0 + 12_000);
    expect(created(pass([started], [...shut, runs], T0 + 12_000).changes).map((t) => t.slot)).toEqual([2]);
  });

  it('completes after the monitor period once every slot runs the new spec', () => {
    const { svc } = updated(2, { monitorMs: 5000 });
    const started = { ...svc, updateStatus: { state: 'updating' as const, message: 'update in progress', startedAt: iso(T0) } };
    const fresh = [1, 2].map((slot) => task(svc, { id: `u${slot}`, slot, nodeId: 'n1', origin: 'update', createdAt: iso(T0), status: status('running', T0 + slot * 1000, { startedAt: iso(T0 + slot * 1000) }) }));
    const early = pass([started], fresh, T0 + 6000);
    expect(statusChange(early.changes)).toBeUndefined();
    expect(early.nextRunAt).toBe(T0 + 7000);
    expect(statusChange(pass([started], fresh, T0 + 7000).changes)).toEqual({
      op: 'service.updateStatus',
      serviceId: 'web',
      updateStatus: { state: 'completed', message: 'update completed', startedAt: iso(T0), completedAt: iso(T0 + 7000) },
    });
  });

  it('monitors for delay + 1 s when the delay is not shorter than the monitor period', () => {
    const { svc } = updated(1, { monitorMs: 1000, delayMs: 3000 });
    const started = { ...svc, updateStatus: { state: 'updating' as const, message: 'update in progress', startedAt: iso(T0) } };
    const fresh = task(svc, { id: 'u1', slot: 1, nodeId: 'n1', origin: 'update', createdAt: iso(T0), status: status('running', T0, { startedAt: iso(T0) }) });
    // Free after the delay (3 s), then watched for delay + 1 s = 4 s.
    expect(pass([started], [fresh], T0 + 6000).nextRunAt).toBe(T0 + 7000);
  });
});

describe('update failures', () => {
  function failing(update: Partial<UpdateConfig>, failures: number, replicas = 4, extra: Partial<Service> = {}) {
    const { svc, old } = updated(replicas, update, extra);
    const started = { ...svc, updateStatus: extra.updateStatus ?? { state: 'updating' as const, message: 'update in progress', startedAt: iso(T0) } };
    const tasks = old.map((t, i) => (i < failures ? { ...t, desiredState: 'shutdown' as const, status: status('shutdown', T0 + 100) } : t));
    for (let i = 0; i < failures; i++) {
      tasks.push(task(svc, { id: `bad${i + 1}`, slot: i + 1, nodeId: 'n1', origin: 'update', createdAt: iso(T0), status: status('failed', T0 + 2000 + i, { startedAt: iso(T0 + 1000), err: 'task: non-zero exit (1)' }) }));
    }
    return { started, tasks };
  }

  it('pauses (the default) with Swarm’s message naming the task', () => {
    const { started, tasks } = failing({ parallelism: 1 }, 1);
    const { changes } = pass([started], tasks, T0 + 3000);
    expect(statusChange(changes)).toEqual({
      op: 'service.updateStatus',
      serviceId: 'web',
      updateStatus: { state: 'paused', message: 'update paused due to failure or early termination of task bad1', startedAt: iso(T0) },
    });
    // Paused: no further slot is touched (the failed task itself is still restarted by its policy).
    expect(created(changes).every((t) => t.origin === 'restart')).toBe(true);
    const paused = { ...started, updateStatus: { state: 'paused' as const, message: 'x', startedAt: iso(T0) } };
    const later = pass([paused], tasks.map((t) => (t.id === 'bad1' ? { ...t, desiredState: 'shutdown' as const } : t)), T0 + 60_000).changes;
    expect(created(later).filter((t) => t.origin === 'update')).toEqual([]);
    expect(desired(later)).toEqual({});
  });

  it('finishes the slots in flight when paused, and starts no new one', () => {
    const { svc, old } = updated(3, { order: 'start-first' });
    const paused = { ...svc, updateStatus: { state: 'paused' as const, message: 'update paused due to failure or early termination of task x', startedAt: iso(T0) } };
    const fresh = task(svc, { id: 'u1', slot: 1, nodeId: 'n2', origin: 'update', createdAt: iso(T0), status: status('running', T0 + 1000, { startedAt: iso(T0 + 1000) }) });
    const { changes } = pass([paused], [...old, fresh], T0 + 2000);
    expect(desired(changes)).toEqual({ old1: 'shutdown' });
    expect(created(changes)).toEqual([]);
    expect(statusChange(changes)).toBeUndefined();
  });

  it('keeps going with failure action continue', () => {
    const { started, tasks } = failing({ parallelism: 1, failureAction: 'continue' }, 1);
    const { changes } = pass([started], tasks, T0 + 3000);
    expect(statusChange(changes)).toBeUndefined();
    expect(created(changes).filter((t) => t.origin === 'update').map((t) => t.slot)).toEqual([2]);
  });

  it('rolls back to the previous spec with failure action rollback', () => {
    const { started, tasks } = failing({ parallelism: 1, failureAction: 'rollback' }, 1);
    const change = statusChange(pass([started], tasks, T0 + 3000).changes);
    expect(change).toMatchObject({
      op: 'service.rollback',
      serviceId: 'web',
      specVersion: 1,
      updateStatus: { state: 'rollback_started', message: 'update rolled back due to failure or early termination of task bad1' },
    });
    expect(change?.op === 'service.rollback' && change.spec.taskTemplate.container.image).toBe('app:v1');
  });

  it('pauses a rollback that fails: "rollback paused …"', () => {
    const { started, tasks } = failing({ parallelism: 1, failureAction: 'rollback' }, 1, 4, {
      updateStatus: { state: 'rollback_started', message: 'manually requested rollback', startedAt: iso(T0) },
    });
    expect(statusChange(pass([started], tasks, T0 + 3000).changes)).toMatchObject({
      op: 'service.updateStatus',
      updateStatus: { state: 'rollback_paused', message: 'rollback paused due to failure or early termination of task bad1' },
    });
  });

  it('tolerates failures up to the max failure ratio', () => {
    const within = failing({ parallelism: 0, maxFailureRatio: 0.5 }, 2);
    expect(statusChange(pass([within.started], within.tasks, T0 + 3000).changes)).toBeUndefined();
    const beyond = failing({ parallelism: 0, maxFailureRatio: 0.5 }, 3);
    expect(statusChange(pass([beyond.started], beyond.tasks, T0 + 3000).changes)).toMatchObject({ updateStatus: { state: 'paused', message: 'update paused due to failure or early termination of task bad3' } });
  });

  it('ignores a failure that comes after the monitor period', () => {
    const { svc } = updated(1, { monitorMs: 5000 });
    const started = { ...svc, updateStatus: { state: 'updating' as const, message: 'update in progress', startedAt: iso(T0) } };
    const late = task(svc, { id: 'late', slot: 1, nodeId: 'n1', origin: 'update', createdAt: iso(T0), status: status('failed', T0 + 20_000, { startedAt: iso(T0 + 1000) }) });
    const { changes } = pass([started], [late], T0 + 21_000);
    expect(changes.find((c) => c.op === 'service.updateStatus' && c.updateStatus.state === 'paused')).toBeUndefined();
  });

  it('counts a task that never ran as a failure', () => {
    const { svc } = updated(1, {});
    const started = { ...svc, updateStatus: { state: 'updating' as const, message: 'update in progress', startedAt: iso(T0) } };
    const rejected = task(svc, { id: 'rej', slot: 1, nodeId: 'n1', origin: 'update', createdAt: iso(T0), status: status('rejected', T0 + 500, { err: 'No such image: app:v2' }) });
    expect(statusChange(pass([started], [rejected], T0 + 1000).changes)).toMatchObject({ updateStatus: { state: 'paused', message: 'update paused due to failure or early termination of task rej' } });
  });
});

describe('an update across a leader change', () => {
  it('is finished by a new leader from the store alone, each slot replaced once', () => {
    const sim = new SimSwarm();
    for (const id of ['n1', 'n2', 'n3']) sim.addNode(node(id));
    const base = spec({ mode: { kind: 'replicated', replicas: 9 }, updateConfig: { parallelism: 2 } });
    sim.createService('web', base);
    sim.runUntil(() => sim.running('web').length === 9);
    sim.updateService('web', withImage(base, 'busybox:2'));
    sim.runUntil(() => sim.serviceTasks('web').filter((t) => t.origin === 'update').length >= 4);
    // The "new leader" has only the replicated state: services, tasks, nodes.
    const next = new SimSwarm();
    for (const n of sim.nodes.values()) next.addNode(n);
    for (const s of sim.services.values()) next.services.set(s.id, s);
    for (const t of sim.tasks.values()) next.tasks.set(t.id, t);
    next.now = sim.now + 3000;
    next.runUntil(() => next.services.get('web')!.updateStatus?.state === 'completed');
    const updates = next.serviceTasks('web').filter((t) => t.origin === 'update');
    expect(updates).toHaveLength(9);
    expect(new Set(updates.map((t) => t.slot)).size).toBe(9);
    expect(next.running('web').every((t) => t.spec.container.image === 'busybox:2')).toBe(true);
  });

  it('decides the same way when run twice on the same state', () => {
    const { svc, old } = updated(6, { parallelism: 3 });
    expect(pass([svc], old)).toEqual(pass([svc], [...old].reverse()));
  });
});

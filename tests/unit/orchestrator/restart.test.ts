// The restart policy: condition, delay, max attempts within a window, history per slot, and the
// delayed start — each path on plain data.
import { describe, expect, it } from 'vitest';
import type { PlacementNode } from '../../../shared/constraints.js';
import type { RestartPolicy, Service, Task } from '../../../shared/services.js';
import { orchestrate, shouldRestart, type OrchestratorChange } from '../../../electron/swarm/orchestrator/index.js';
import { T0, iso, node, service, spec, status, task } from '../../support/swarm-services.js';

function pass(services: Service[], tasks: Task[], nodes: PlacementNode[] = [node('n1'), node('n2')], now = T0): { changes: readonly OrchestratorChange[]; nextRunAt: number | null } {
  let n = 0;
  return orchestrate({ services, tasks, nodes }, { now, newId: () => `new${++n}` });
}

const created = (changes: readonly OrchestratorChange[]): Task[] => changes.flatMap((c) => (c.op === 'task.create' ? [c.task] : []));
const deleted = (changes: readonly OrchestratorChange[]): string[] => changes.flatMap((c) => (c.op === 'task.delete' ? [c.taskId] : []));

function withPolicy(policy: Partial<RestartPolicy>): Service {
  return service('web', spec({ mode: { kind: 'replicated', replicas: 1 }, taskTemplate: { container: { image: 'busybox' }, restartPolicy: policy } }));
}

const exited = (svc: Service, id: string, state: 'complete' | 'failed' | 'rejected', at = T0, extra: Partial<Task> = {}): Task =>
  task(svc, { id, slot: 1, nodeId: 'n1', status: status(state, at), ...extra });

describe('restart condition', () => {
  it.each([
    ['any', 'complete', true],
    ['any', 'failed', true],
    ['on-failure', 'complete', false],
    ['on-failure', 'failed', true],
    ['on-failure', 'rejected', true],
    ['none', 'failed', false],
    ['none', 'complete', false],
  ] as const)('condition %s, task %s → restart: %s', (condition, state, restarts) => {
    const svc = withPolicy({ condition });
    const { changes } = pass([svc], [exited(svc, 'a', state)]);
    expect(changes).toContainEqual({ op: 'task.desiredState', taskId: 'a', desiredState: 'shutdown' });
    expect(created(changes)).toHaveLength(restarts ? 1 : 0);
  });

  it('a finished task the policy won’t restart keeps its slot: no new task, replicas stay satisfied', () => {
    const svc = withPolicy({ condition: 'none' });
    const done = { ...exited(svc, 'a', 'complete'), desiredState: 'shutdown' as const };
    expect(pass([svc], [done]).changes).toEqual([]);
  });

  it('restarts in the same slot after the restart delay, waiting for an old task that still runs', () => {
    const svc = withPolicy({ delayMs: 2500 });
    const { changes, nextRunAt } = pass([svc], [exited(svc, 'a', 'failed')]);
    expect(created(changes)[0]).toMatchObject({ slot: 1, origin: 'restart', desiredState: 'ready', delayedStart: { notBefore: iso(T0 + 2500) } });
    // The old task already stopped: nothing to wait for.
    expect(created(changes)[0]!.delayedStart!.replaces).toBeUndefined();
    expect(nextRunAt).toBe(T0 + 2500);
    // A task that still runs (its node was drained) is waited for.
    const onDrained = pass([svc], [task(svc, { id: 'b', slot: 1, nodeId: 'n1', status: status('running', T0) })], [node('n1', { availability: 'drain' }), node('n2')]);
    expect(created(onDrained.changes)[0]!.delayedStart).toEqual({ notBefore: iso(T0), replaces: 'b' });
  });

  it('starts the replacement only once the delay has passed', () => {
    const svc = withPolicy({ delayMs: 2500 });
    const old = { ...exited(svc, 'a', 'failed'), desiredState: 'shutdown' as const };
    const replacement = task(svc, { id: 'r', slot: 1, origin: 'restart', desiredState: 'ready', delayedStart: { notBefore: iso(T0 + 2500) } });
    const early = pass([svc], [old, replacement], undefined, T0 + 1000);
    expect(early.changes).toEqual([]);
    expect(early.nextRunAt).toBe(T0 + 2500);
    expect(pass([svc], [old, replacement], undefined, T0 + 2500).changes).toEqual([{ op: 'task.desiredState', taskId: 'r', desiredState: 'running' }]);
  });

  it('waits out its own delay before restarting a replacement that failed while waiting', () => {
    const svc = withPolicy({ delayMs: 5000 });
    const replacement = task(svc, { id: 'r', slot: 1, nodeId: 'n1', origin: 'restart', desiredState: 'ready', delayedStart: { notBefore: iso(T0 + 5000) }, status: status('rejected', T0 + 100) });
    const early = pass([svc], [replacement], undefined, T0 + 1000);
    expect(early.changes).toEqual([]);
    expect(early.nextRunAt).toBe(T0 + 5000);
    expect(created(pass([svc], [replacement], undefined, T0 + 5000).changes)).toHaveLength(1);
  });
});

describe('max attempts and window', () => {
  function history(svc: Service, restarts: number, every: number): Task[] {
    // The original task, then `restarts` replacements, each failed `every` ms after the previous one.
    return Array.from({ length: restarts + 1 }, (_, i) => ({
      ...exited(svc, `t${i}`, 'failed', T0 + i * every + every - 1, { origin: i === 0 ? 'service' : 'restart', createdAt: iso(T0 + i * every) }),
      desiredState: i === restarts ? ('running' as const) : ('shutdown' as const),
    }));
  }

  it('stops after max attempts restarts of the same spec', () => {
    const svc = withPolicy({ maxAttempts: 2, delayMs: 0 });
    expect(created(pass([svc], history(svc, 1, 1000), undefined, T0 + 10_000).changes)).toHaveLength(1);
    const exhausted = pass([svc], history(svc, 2, 1000), undefined, T0 + 10_000).changes;
    expect(created(exhausted)).toHaveLength(0);
    expect(exhausted).toContainEqual({ op: 'task.desiredState', taskId: 't2', desiredState: 'shutdown' });
  });

  it('counts only restarts inside the window before the failure', () => {
    const svc = withPolicy({ maxAttempts: 2, windowMs: 10_000, delayMs: 0 });
    // Restarts 20 s apart: never two inside a 10 s window.
    expect(created(pass([svc], history(svc, 4, 20_000), undefined, T0 + 200_000).changes)).toHaveLength(1);
    // Restarts 2 s apart: two inside the window, so no more.
    expect(created(pass([svc], history(svc, 4, 2_000), undefined, T0 + 200_000).changes)).toHaveLength(0);
  });

  it('starts counting again when the spec changes', () => {
    const svc = withPolicy({ maxAttempts: 1 });
    const old = history(svc, 3, 1000);
    expect(shouldRestart(old.at(-1)!, old)).toBe(false);
    const newer: Task = { ...old.at(-1)!, specVersion: 2, origin: 'update' };
    expect(shouldRestart(newer, [...old.slice(0, -1), newer])).toBe(true);
  });
});

describe('task history', () => {
  it('keeps 5 tasks per slot, removing the oldest finished ones', () => {
    const svc = withPolicy({});
    const tasks: Task[] = Array.from({ length: 7 }, (_, i) => ({ ...exited(svc, `h${i}`, 'failed', T0 + i * 1000), desiredState: 'shutdown' as const }));
    tasks.push(task(svc, { id: 'live', slot: 1, nodeId: 'n1', status: status('running', T0 + 9000) }));
    const { changes } = pass([svc], tasks, undefined, T0 + 10_000);
    expect(deleted(changes)).toEqual(['h0', 'h1', 'h2']);
  });

  it('keeps max attempts + 1 when max attempts is set, as Swarm does to remember the restart count', () => {
    const svc = withPolicy({ maxAttempts: 7 });
    const tasks: Task[] = Array.from({ length: 9 }, (_, i) => ({ ...exited(svc, `h${i}`, 'failed', T0 + i * 1000), desiredState: 'shutdown' as const }));
    tasks.push(task(svc, { id: 'live', slot: 1, nodeId: 'n1', status: status('running', T0 + 9500) }));
    expect(deleted(pass([svc], tasks, undefined, T0 + 10_000).changes)).toEqual(['h0', 'h1']);
  });

  it('keeps history per node for a global service', () => {
    const svc = service('g', spec({ mode: { kind: 'global' } }));
    const tasks = Array.from({ length: 6 }, (_, i) => task(svc, { id: `g${i}`, slot: 0, nodeId: i % 2 === 0 ? 'n1' : 'n2', desiredState: 'shutdown', status: status('failed', T0 + i) }));
    tasks.push(task(svc, { id: 'l1', slot: 0, nodeId: 'n1', status: status('running', T0) }), task(svc, { id: 'l2', slot: 0, nodeId: 'n2', status: status('running', T0) }));
    expect(deleted(pass([svc], tasks).changes)).toEqual([]);
  });
});

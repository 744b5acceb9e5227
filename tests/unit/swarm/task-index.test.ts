// The store's task indexes (by service, by node) kept as commands apply, checked against a scan of
// the table after every step of a random history; and the dispatcher's short-circuit: a node that
// already holds its set gets `unchanged` and no tasks, and any change to the set ends that.
import { describe, expect, it } from 'vitest';
import { serviceSpecSchema } from '../../../shared/service-schema.js';
import type { Task, TaskState } from '../../../shared/services.js';
import { AssignmentSet, METHODS } from '../../../electron/protocol/index.js';
import { assignmentsFor, assignmentsFromIndex } from '../../../electron/swarm/dispatcher/assignments.js';
import { SwarmStore, tasksOf, type Command } from '../../../electron/swarm/state/store.js';
import { seeded } from '../../support/swarm-services.js';

const AT = '2026-11-29T00:00:00.000Z';
const SPEC = serviceSpecSchema.parse({ name: 'web', taskTemplate: { container: { image: 'busybox:1' } } });
const SERVICES = ['s1', 's2', 's3'];
const NODES = ['', 'n1', 'n2', 'n3'];

function newTask(id: string, serviceId: string, nodeId: string, state: TaskState = 'assigned'): Task {
  return {
    id, version: 0, createdAt: AT, updatedAt: AT, serviceId, serviceName: serviceId, slot: 1, nodeId, spec: SPEC.taskTemplate, specVersion: 1,
    endpoint: SPEC.endpointSpec, desiredState: 'running', status: { state, timestamp: AT, message: '', err: '' }, origin: 'service',
  };
}

const sortIds = (tasks: readonly Task[]): string[] => tasks.map((t) => t.id).sort();

function expectIndexMatchesScan(store: SwarmStore): void {
  const all = Object.values(tasksOf(store.state));
  for (const service of SERVICES) expect(sortIds(store.tasksOfService(service))).toEqual(sortIds(all.filter((t) => t.serviceId === service)));
  for (const node of NODES) expect(sortIds(store.tasksOfNode(node))).toEqual(sortIds(all.filter((t) => t.nodeId === node)));
}

describe('task indexes by service and by node', () => {
  it('agree with a scan after every command of a random history, and after a snapshot restore', () => {
    const random = seeded(46);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const store = new SwarmStore();
    let next = 0;
    for (let index = 1; index <= 400; index++) {
      const existing = Object.keys(tasksOf(store.state));
      const roll = random();
      let command: Command;
      if (roll < 0.35 || existing.length === 0) {
        command = { op: 'tasks.batch', at: AT, changes: [{ op: 'task.create', task: newTask(`t${++next}`, pick(SERVICES), pick(NODES), 'pending') }] };
      } else if (roll < 0.55) {
        command = { op: 'tasks.batch', at: AT, changes: [{ op: 'task.assign', taskId: pick(existing), nodeId: pick(NODES.slice(1)), status: { state: 'assigned', timestamp: AT, message: '', err: '' } }] };
      } else if (roll < 0.7) {
        command = { op: 'tasks.batch', at: AT, changes: [{ op: 'task.delete', taskId: pick(existing) }] };
      } else if (roll < 0.85) {
        const task = tasksOf(store.state)[pick(existing)]!;
        command = { op: 'task.status', nodeId: task.nodeId, reports: [{ taskId: task.id, status: { state: 'running', timestamp: AT, message: '', err: '' } }] };
      } else {
        command = { op: 'tasks.batch', at: AT, changes: [{ op: 'task.desiredState', taskId: pick(existing), desiredState: 'shutdown' }, { op: 'task.delete', taskId: pick(existing) }] };
      }
      store.apply(command, index);
      expectIndexMatchesScan(store);
    }
    expect(Object.keys(tasksOf(store.state)).length).toBeGreaterThan(10);
    const restored = new SwarmStore();
    restored.restore(store.snapshot(), 400);
    expectIndexMatchesScan(restored);
  });
});

describe('dispatcher.tasks short-circuit', () => {
  it('the protocol takes the known set and answers `unchanged`', () => {
    expect(METHODS['dispatcher.tasks'].body.safeParse({}).success).toBe(true);
    expect(METHODS['dispatcher.tasks'].body.safeParse({ known: { version: 4, tasks: 2 } }).success).toBe(true);
    expect(AssignmentSet.safeParse({ version: 4, tasks: [], unchanged: true }).success).toBe(true);
  });

  it('no resend while the set holds; an addition, a change and a removal each send it again', () => {
    const store = new SwarmStore();
    store.apply({ op: 'tasks.batch', at: AT, changes: [{ op: 'task.create', task: newTask('a', 's1', 'n1') }, { op: 'task.create', task: newTask('b', 's1', 'n1') }, { op: 'task.create', task: newTask('c', 's1', 'n2') }] }, 5);
    const first = assignmentsFromIndex(store, 'n1', undefined);
    expect(first.tasks.map((t) => t.id)).toEqual(['a', 'b']);
    // The index answers as the scan does.
    expect(first).toEqual(assignmentsFor(store.state, 'n1'));
    const known = (set: AssignmentSet) => ({ version: set.version, tasks: set.tasks.length });

    expect(assignmentsFromIndex(store, 'n1', known(first))).toEqual({ version: 5, tasks: [], unchanged: true });
    // A change on another node's task is not this node's news.
    store.apply({ op: 'tasks.batch', at: AT, changes: [{ op: 'task.desiredState', taskId: 'c', desiredState: 'shutdown' }] }, 6);
    expect(assignmentsFromIndex(store, 'n1', known(first)).unchanged).toBe(true);

    store.apply({ op: 'tasks.batch', at: AT, changes: [{ op: 'task.desiredState', taskId: 'a', desiredState: 'shutdown' }] }, 7);
    const changed = assignmentsFromIndex(store, 'n1', known(first));
    expect(changed.unchanged).toBeUndefined();
    expect(changed.tasks.find((t) => t.id === 'a')?.desiredState).toBe('SHUTDOWN');

    // Removing the newest task lowers the version; the size tells the set changed all the same.
    store.apply({ op: 'tasks.batch', at: AT, changes: [{ op: 'task.delete', taskId: 'a' }] }, 8);
    const removed = assignmentsFromIndex(store, 'n1', known(changed));
    expect(removed.unchanged).toBeUndefined();
    expect(removed.tasks.map((t) => t.id)).toEqual(['b']);

    store.apply({ op: 'tasks.batch', at: AT, changes: [{ op: 'task.create', task: newTask('d', 's2', 'n1') }] }, 9);
    expect(assignmentsFromIndex(store, 'n1', known(removed)).tasks.map((t) => t.id)).toEqual(['b', 'd']);
    // A node that knows nothing (restarted agent) always gets its set.
    expect(assignmentsFromIndex(store, 'n1', undefined).tasks).toHaveLength(2);
  });
});

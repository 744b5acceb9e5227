// What the dispatcher hands a node's agent, and what it takes back: the node's complete set of
// tasks (its assignments, on any manager from its own store) and the agent's status reports for
// its own tasks only, as one `task.status` entry. Protocol shapes (electron/protocol) on the wire;
// the store's tasks (shared/services.ts) inside.
import { skepError } from '../../../shared/errors.js';
import { taskStateRank, type PortConfig, type Task, type TaskState, type TaskStatus } from '../../../shared/services.js';
import type { AssignedTask, AssignmentSet, TaskReport } from '../../protocol/index.js';
import { tasksOf, type Command, type SwarmState } from '../state/store.js';

const ASSIGNED = taskStateRank('assigned');

/** The node's assignments: every task placed on it that the store still holds, in ID order. */
export function assignmentsFor(state: SwarmState, nodeId: string): AssignmentSet {
  return assignmentSet(Object.values(tasksOf(state)).filter((t) => t.nodeId === nodeId), undefined);
}

/** What a node says it holds (the version and size of the last set it was sent). */
export interface KnownSet {
  readonly version: number;
  readonly tasks: number;
}

/**
 * The node's assignments from the store's node index (no scan of every task). A node that already
 * holds this set gets `unchanged` and no tasks. The version (the newest task's Raft index) with the
 * set's size identifies the set: any addition or change raises the version past every earlier one,
 * and removals alone lower the size, so the pair never comes back to a value it had.
 */
export function assignmentsFromIndex(store: { tasksOfNode(nodeId: string): readonly Task[] }, nodeId: string, known: KnownSet | undefined): AssignmentSet {
  return assignmentSet(store.tasksOfNode(nodeId), known);
}

function assignmentSet(placed: readonly Task[], known: KnownSet | undefined): AssignmentSet {
  const own = placed.filter((t) => taskStateRank(t.status.state) >= ASSIGNED);
  const version = own.reduce((max, t) => Math.max(max, t.version), 0);
  if (known && known.version === version && known.tasks === own.length) return { version, tasks: [], unchanged: true };
  own.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { version, tasks: own.map(toAssignedTask) };
}

/** The node IDs whose assignments differ between two states (for the change notification). */
export function nodesWithChangedAssignments(previous: SwarmState, next: SwarmState): Set<string> {
  const before = tasksOf(previous);
  const after = tasksOf(next);
  const changed = new Set<string>();
  if (before === after) return changed;
  for (const [id, task] of Object.entries(after)) {
    const old = before[id];
    if (old === task) continue;
    // Status-only changes the agent itself reported are not news to it.
    if (old && old.nodeId === task.nodeId && old.desiredState === task.desiredState && old.spec === task.spec) continue;
    if (task.nodeId) changed.add(task.nodeId);
    if (old?.nodeId) changed.add(old.nodeId);
  }
  for (const [id, old] of Object.entries(before)) if (!after[id] && old.nodeId) changed.add(old.nodeId);
  return changed;
}

function upper(state: TaskState): AssignedTask['desiredState'] {
  return state.toUpperCase() as AssignedTask['desiredState'];
}

export function toAssignedTask(task: Task): AssignedTask {
  const c = task.spec.container;
  const limits = task.spec.resources.limits;
  const ports = task.endpoint.ports
    .filter((p): p is PortConfig & { protocol: 'tcp' | 'udp' } => p.protocol !== 'sctp')
    .map((p) => ({ protocol: p.protocol, targetPort: p.targetPort, publishedPort: p.publishedPort }));
  return {
    id: task.id,
    serviceId: task.serviceId,
    serviceName: task.serviceName,
    ...(task.slot > 0 ? { slot: task.slot } : {}),
    nodeId: task.nodeId,
    desiredState: upper(task.desiredState),
    currentState: upper(task.status.state),
    spec: {
      image: c.image,
      command: [...c.command],
      args: [...c.args],
      env: [...c.env],
      labels: { ...c.labels },
      mounts: c.mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, readOnly: m.readOnly })),
      ports,
      limits: { nanoCpus: limits.nanoCpus, memoryBytes: limits.memoryBytes },
      ...(c.healthcheck ? { healthcheck: { test: [...c.healthcheck.test], intervalMs: c.healthcheck.intervalMs, timeoutMs: c.healthcheck.timeoutMs, retries: c.healthcheck.retries, startPeriodMs: c.healthcheck.startPeriodMs } } : {}),
      stopGracePeriodMs: c.stopGracePeriodMs,
      ...(c.hostname ? { hostname: c.hostname } : {}),
    },
  };
}

function toStatus(report: TaskReport): TaskStatus {
  return {
    state: report.state.toLowerCase() as TaskState,
    timestamp: report.timestamp,
    message: report.message,
    err: report.err ?? '',
    ...(report.containerId ? { containerStatus: { containerId: report.containerId, pid: 0, exitCode: report.exitCode ?? 0 } } : {}),
    ...(report.portStatus ? { portStatus: report.portStatus.map((p) => ({ protocol: p.protocol, targetPort: p.targetPort, publishedPort: p.publishedPort, publishMode: 'host' as const })) } : {}),
  };
}

/**
 * The `task.status` entry for a node's reports. A report for a task assigned elsewhere is refused
 * (a node speaks only for itself); one for a task the store no longer has is dropped (it was deleted
 * while the report travelled).
 */
export function statusCommand(state: SwarmState, nodeId: string, reports: readonly TaskReport[]): Command | null {
  const tasks = tasksOf(state);
  const entries = [];
  for (const report of reports) {
    const task = tasks[report.taskId];
    if (!task) continue;
    if (task.nodeId !== nodeId) throw skepError('TASK_NOT_ON_NODE', report.taskId);
    entries.push({ taskId: report.taskId, status: toStatus(report) });
  }
  return entries.length === 0 ? null : { op: 'task.status', nodeId, reports: entries };
}

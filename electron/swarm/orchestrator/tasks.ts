// Helpers every part of the orchestrator shares: making a task, telling whether a task still matches
// its service (swarmkit orchestrator/task.go), and which nodes can't keep tasks.
import { compileConstraints, nodeMatchesConstraints, type PlacementNode } from '../../../shared/constraints.js';
import { taskStateRank, type Service, type Task, type TaskOrigin, type TaskState } from '../../../shared/services.js';
import type { Tx } from './tx.js';

export const RANK = {
  new: taskStateRank('new'),
  assigned: taskStateRank('assigned'),
  ready: taskStateRank('ready'),
  running: taskStateRank('running'),
  complete: taskStateRank('complete'),
  shutdown: taskStateRank('shutdown'),
  remove: taskStateRank('remove'),
} as const;

export function rank(state: TaskState): number {
  return taskStateRank(state);
}

/** A task the managers still want to run (desired state at most RUNNING). */
export function isWanted(task: Task): boolean {
  return rank(task.desiredState) <= RANK.running;
}

/** The agent reported that the task stopped (observed state past RUNNING). */
export function hasStopped(task: Task): boolean {
  return rank(task.status.state) > RANK.running;
}

/** Swarm's NewTask: a copy of the service's template, state NEW, desired RUNNING. */
export function newTask(tx: Tx, service: Service, slot: number, nodeId: string, origin: TaskOrigin): Task {
  return {
    id: tx.id(),
    version: 0,
    createdAt: tx.timestamp,
    updatedAt: tx.timestamp,
    serviceId: service.id,
    serviceName: service.spec.name,
    slot,
    nodeId,
    spec: service.spec.taskTemplate,
    specVersion: service.specVersion,
    endpoint: service.spec.endpointSpec,
    desiredState: 'running',
    status: { state: 'new', timestamp: tx.timestamp, message: 'created', err: '' },
    origin,
  };
}

/** Swarm's InvalidNode: a task can't stay on a node that is gone, down or drained. */
export function isInvalidNode(node: PlacementNode | undefined): boolean {
  return node === undefined || node.state === 'down' || node.availability === 'drain';
}

export function serviceConstraintsMatch(service: Service, node: PlacementNode): boolean {
  const constraints = compileConstraints(service.spec.taskTemplate.placement.constraints);
  return constraints === null || nodeMatchesConstraints(constraints, node);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}

/**
 * Swarm's IsTaskDirty: the task no longer matches its service's template or endpoint. A change of
 * placement constraints alone leaves a task clean while its node still satisfies them.
 */
export function isTaskDirty(service: Service, task: Task, node: PlacementNode | undefined): boolean {
  if (task.specVersion === service.specVersion) return false;
  const template = service.spec.taskTemplate;
  if (!deepEqual(service.spec.endpointSpec, task.endpoint)) return true;
  if (deepEqual(template, task.spec)) return false;
  const onlyConstraints = deepEqual({ ...template, placement: { ...template.placement, constraints: task.spec.placement.constraints } }, task.spec);
  return !(onlyConstraints && node !== undefined && serviceConstraintsMatch(service, node));
}

export function msFrom(iso: string): number {
  return Date.parse(iso);
}

// Global services (swarmkit orchestrator/global): one task on every node that is not drained, not
// down and satisfies the constraints. A paused node keeps what it runs but gets nothing new; a node
// that leaves, goes down, is drained or stops matching has its task shut down.
import type { PlacementNode } from '../../../shared/constraints.js';
import type { Service, Task } from '../../../shared/services.js';
import { occupyingTasks, restartTask } from './restart.js';
import { RANK, hasStopped, isInvalidNode, isWanted, newTask, rank, serviceConstraintsMatch } from './tasks.js';
import type { Tx } from './tx.js';
import { updateService, type Slot } from './update.js';

function shutDown(tx: Tx, tasks: readonly Task[]): void {
  for (const t of tasks) {
    const current = tx.task(t.id);
    if (current && rank(current.desiredState) < RANK.shutdown) tx.setDesiredState(current, 'shutdown');
  }
}

function byNode(tasks: readonly Task[]): Map<string, Task[]> {
  const nodes = new Map<string, Task[]>();
  for (const t of tasks) {
    const list = nodes.get(t.nodeId);
    if (list) list.push(t);
    else nodes.set(t.nodeId, [t]);
  }
  return nodes;
}

/** Swarm's FixTask and tickTasks for global services: stop tasks on nodes that can't keep them, restart the ones that stopped. */
export function restartGlobalTasks(tx: Tx, service: Service): void {
  const tasks = tx.serviceTasks(service.id);
  const perNode = byNode(tasks);
  for (const task of tasks) {
    if (!isWanted(task)) continue;
    const node = tx.nodes.get(task.nodeId);
    if (task.nodeId === '' || isInvalidNode(node)) {
      shutDown(tx, [task]);
      continue;
    }
    if (!hasStopped(task)) continue;
    if (node!.availability === 'pause' || !serviceConstraintsMatch(service, node!)) shutDown(tx, [task]);
    else restartTask(tx, service, task, perNode.get(task.nodeId) ?? []);
  }
}

export function reconcileGlobal(tx: Tx, service: Service): void {
  const perNode = byNode(tx.serviceTasks(service.id));
  const occupying = new Map<string, Task[]>();
  for (const [nodeId, tasks] of perNode) {
    const held = occupyingTasks(tasks, service);
    if (held.length > 0) occupying.set(nodeId, held);
  }
  const eligible: PlacementNode[] = [...tx.nodes.values()].filter((n) => !isInvalidNode(n)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const toUpdate: Slot[] = [];
  for (const node of eligible) {
    const tasks = occupying.get(node.id) ?? [];
    occupying.delete(node.id);
    if (!serviceConstraintsMatch(service, node)) {
      shutDown(tx, tasks);
      continue;
    }
    if (node.availability === 'pause') continue;
    if (tasks.length === 0) tx.createTask(newTask(tx, service, 0, node.id, 'service'));
    else toUpdate.push(tasks);
  }
  // Tasks on nodes that are drained, down or gone.
  for (const tasks of occupying.values()) shutDown(tx, tasks);
  updateService(tx, service, toUpdate);
}

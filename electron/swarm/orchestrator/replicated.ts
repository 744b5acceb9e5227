// Replicated services (swarmkit orchestrator/replicated): slots 1..N. A task that stopped or whose
// node is gone is restarted in its slot; missing slots get new tasks; surplus slots are removed from
// the nodes with the most copies first, tasks that aren't running before running ones; then the
// rolling update brings the slots that remain to the service's spec.
import type { Service, Task } from '../../../shared/services.js';
import { occupyingTasks, restartTask } from './restart.js';
import { RANK, hasStopped, isInvalidNode, isWanted, newTask, rank } from './tasks.js';
import type { Tx } from './tx.js';
import { updateService, type Slot } from './update.js';

function slotsOf(tasks: readonly Task[]): Map<number, Task[]> {
  const slots = new Map<number, Task[]>();
  for (const t of tasks) {
    const slot = slots.get(t.slot);
    if (slot) slot.push(t);
    else slots.set(t.slot, [t]);
  }
  return slots;
}

/** Swarm's task-level handling: restart what stopped, or what sits on a node that is down, drained or gone. */
export function restartReplicatedTasks(tx: Tx, service: Service): void {
  const tasks = tx.serviceTasks(service.id);
  const slots = slotsOf(tasks);
  for (const task of tasks) {
    if (!isWanted(task)) continue;
    const nodeGone = task.nodeId !== '' && isInvalidNode(tx.nodes.get(task.nodeId));
    if (hasStopped(task) || nodeGone) restartTask(tx, service, task, slots.get(task.slot) ?? []);
  }
}

export function reconcileReplicated(tx: Tx, service: Service): void {
  if (service.spec.mode.kind !== 'replicated') return;
  const replicas = service.spec.mode.replicas;
  const tasks = tx.serviceTasks(service.id);
  const running = new Map<number, Task[]>();
  const dead = new Map<number, Task[]>();
  for (const [slot, slotTasks] of slotsOf(tasks)) {
    const occupying = occupyingTasks(slotTasks, service);
    if (occupying.length > 0) running.set(slot, occupying);
    else dead.set(slot, slotTasks);
  }
  const slots = [...running.keys()].sort((a, b) => a - b).map((n) => running.get(n)!);

  if (replicas > slots.length) {
    let next = 0;
    for (let i = slots.length; i < replicas; i++) {
      do next++;
      while (running.has(next));
      // A dead slot that gets a task again keeps its history.
      dead.delete(next);
      tx.createTask(newSlotTask(tx, service, next));
    }
    deleteFinished(tx, dead);
    updateService(tx, service, slots);
    return;
  }
  deleteFinished(tx, dead);
  if (replicas === slots.length) {
    updateService(tx, service, slots);
    return;
  }
  const ordered = scaleDownOrder(slots);
  for (const slot of ordered.slice(replicas)) {
    for (const t of slot) if (rank(t.desiredState) < RANK.remove) tx.setDesiredState(t, 'remove');
  }
  updateService(tx, service, ordered.slice(0, replicas));
}

function newSlotTask(tx: Tx, service: Service, slot: number): Task {
  return newTask(tx, service, slot, '', 'service');
}

/** Dead slots' tasks are dropped once no agent runs them; those still running go when they stop (the reaper). */
function deleteFinished(tx: Tx, dead: Map<number, Task[]>): void {
  for (const slot of dead.values()) {
    for (const t of slot) if (hasStopped(t) || rank(t.status.state) < RANK.assigned) tx.deleteTask(t);
  }
}

/**
 * Swarm's scale-down order, best kept first: running slots before the others, lower slot numbers
 * first; then each slot's position among the service's copies on its node (1st, 2nd, …), so the
 * slots removed are the extra copies on the most loaded nodes. Slots with no node, or with two tasks
 * in the middle of an update, go first.
 */
export function scaleDownOrder(slots: readonly Slot[]): Slot[] {
  const isRunning = (slot: Slot): boolean => slot.some((t) => t.status.state === 'running');
  const byState = [...slots].sort((a, b) => Number(isRunning(b)) - Number(isRunning(a)) || a[0]!.slot - b[0]!.slot);
  const perNode = new Map<string, number>();
  const indexed = byState.map((slot) => {
    const only = slot.length === 1 ? slot[0]! : undefined;
    if (only === undefined || only.nodeId === '') return { slot, index: Number.MAX_SAFE_INTEGER };
    const index = (perNode.get(only.nodeId) ?? 0) + 1;
    perNode.set(only.nodeId, index);
    return { slot, index };
  });
  // Array.prototype.sort is stable, so equal indices keep the running-first order.
  return indexed.sort((a, b) => a.index - b.index).map((e) => e.slot);
}

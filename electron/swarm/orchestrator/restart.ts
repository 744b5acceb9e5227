// The restart supervisor (swarmkit orchestrator/restart): a task that stopped, or whose node is gone,
// is shut down and, if its restart policy allows, replaced by a new task in the same slot (or on the
// same node for a global service) that starts after the restart delay. Swarm keeps the restart
// history and the pending delays in the leader's memory and rebuilds them from the tasks after a
// leader change; here they are read from the tasks every time (origin 'restart', delayedStart).
import type { Service, Task } from '../../../shared/services.js';
import { RANK, hasStopped, isWanted, msFrom, newTask, rank } from './tasks.js';
import type { Tx } from './tx.js';

/** How long a replacement waits for the task it replaces to stop before starting anyway (Swarm's defaultOldTaskTimeout). */
export const OLD_TASK_TIMEOUT_MS = 60_000;

/** A slot (replicated) or a node (global): where a task and its replacements live. */
export function slotKey(task: Pick<Task, 'serviceId' | 'slot' | 'nodeId'>): string {
  return task.slot > 0 ? `${task.serviceId}/${task.slot}` : `${task.serviceId}/node/${task.nodeId}`;
}

/** The time a task's status was last reported (Swarm sorts history by it). */
function statusTime(task: Task): number {
  return msFrom(task.status.timestamp);
}

/**
 * Swarm's shouldRestart: the policy's condition, then max attempts — counted over the restarts of
 * this slot under the task's spec version, within the window before the task stopped if one is set.
 */
export function shouldRestart(task: Task, slotTasks: readonly Task[]): boolean {
  const policy = task.spec.restartPolicy;
  if (policy.condition === 'none') return false;
  if (policy.condition === 'on-failure' && task.status.state === 'complete') return false;
  if (policy.maxAttempts === 0) return true;
  const restarts = slotTasks.filter((t) => t.origin === 'restart' && t.specVersion === task.specVersion).map((t) => msFrom(t.createdAt));
  if (policy.windowMs === 0) return restarts.length < policy.maxAttempts;
  const stoppedAt = statusTime(task);
  const lookback = stoppedAt - policy.windowMs;
  // Restarts inside the window that happened before this task stopped.
  const counted = restarts.filter((at) => at > lookback && at < stoppedAt).length;
  return counted < policy.maxAttempts;
}

/**
 * Swarm's UpdatableTasksInSlot: the tasks of a slot that occupy it — those still wanted, or else the
 * newest one if the policy won't restart it (a finished task stays the slot's answer). Empty: the
 * slot is dead and the reconciler fills it again.
 */
export function occupyingTasks(slot: readonly Task[], service: Service): Task[] {
  const wanted = slot.filter(isWanted);
  if (wanted.length > 0) return wanted;
  if (service.updateStatus?.state === 'rollback_started') return [];
  // Tasks removed by a scale-down or a service removal never hold their slot.
  const candidates = slot.filter((t) => rank(t.desiredState) < RANK.remove);
  if (candidates.length === 0) return [];
  const newest = candidates.reduce((a, b) => (statusTime(b) > statusTime(a) || (statusTime(b) === statusTime(a) && b.id > a.id) ? b : a));
  return shouldRestart(newest, slot) ? [] : [newest];
}

/**
 * Shuts `task` down and, if the policy allows, creates its replacement with desiredState READY;
 * startDelayed moves it to RUNNING after the restart delay.
 */
export function restartTask(tx: Tx, service: Service, task: Task, slotTasks: readonly Task[]): void {
  // A replacement that failed while still waiting out its own delay restarts after that delay, so an
  // image that can't be pulled doesn't loop tightly.
  if (task.desiredState === 'ready' && task.delayedStart && msFrom(task.delayedStart.notBefore) > tx.now) {
    tx.wake(msFrom(task.delayedStart.notBefore));
    return;
  }
  if (rank(task.desiredState) > RANK.complete) return;
  tx.setDesiredState(task, 'shutdown');
  if (!shouldRestart(task, slotTasks)) return;
  const node = task.nodeId === '' ? undefined : tx.nodes.get(task.nodeId);
  const replacement = newTask(tx, service, task.slot, service.spec.mode.kind === 'global' ? task.nodeId : '', 'restart');
  // No restart delay for tasks leaving a drained node; no waiting for a task that already stopped or whose node is down.
  const delayMs = node?.availability === 'drain' ? 0 : task.spec.restartPolicy.delayMs;
  const waitForStop = !(node?.state === 'down' || hasStopped(task) || rank(task.status.state) < RANK.assigned);
  tx.createTask({
    ...replacement,
    desiredState: 'ready',
    delayedStart: waitForStop ? { notBefore: new Date(tx.now + delayMs).toISOString(), replaces: task.id } : { notBefore: new Date(tx.now + delayMs).toISOString() },
  });
}

/**
 * Swarm's DelayStart/StartNow: a task waiting in READY starts once its delay has passed and the
 * task it replaces has stopped (or its node is down or gone, or a minute has passed).
 */
export function startDelayed(tx: Tx): void {
  for (const task of tx.allTasks()) {
    if (task.desiredState !== 'ready' || rank(task.status.state) > RANK.complete) continue;
    const notBefore = task.delayedStart ? msFrom(task.delayedStart.notBefore) : msFrom(task.createdAt);
    if (tx.now < notBefore) {
      tx.wake(notBefore);
      continue;
    }
    const replaced = task.delayedStart?.replaces === undefined ? undefined : tx.task(task.delayedStart.replaces);
    if (replaced && stillRunning(tx, replaced)) {
      const timeout = msFrom(task.createdAt) + OLD_TASK_TIMEOUT_MS;
      if (tx.now < timeout) {
        tx.wake(timeout);
        continue;
      }
    }
    tx.setDesiredState(task, 'running');
  }
}

function stillRunning(tx: Tx, task: Task): boolean {
  if (hasStopped(task) || rank(task.status.state) < RANK.assigned) return false;
  const node = tx.nodes.get(task.nodeId);
  return node !== undefined && node.state !== 'down';
}

// The rolling update and rollback (swarmkit orchestrator/update/updater.go), as a step that reads
// where the update stands from the store instead of from a goroutine per service, so any leader
// continues it. Each pass:
// - while paused, starts nothing new but lets the slots in flight finish;
// - counts failures of the tasks this update started (stopped early, or within the monitor period
//   after they began running) and, past the max failure ratio, pauses or rolls back;
// - lets up to `parallelism` slots be in flight: a slot is in flight from the moment its new task is
//   made until that task runs, plus `delay`;
// - replaces the next dirty slots: stop-first shuts the old task down and starts the new one when it
//   has stopped; start-first starts the new one and shuts the old one down once the new one runs;
// - completes once no slot is dirty and the last new task has been watched for the monitor period.
import type { Service, Task, UpdateConfig, UpdateStatus } from '../../../shared/services.js';
import { RANK, isTaskDirty, msFrom, newTask, rank } from './tasks.js';
import type { Tx } from './tx.js';

export const UPDATE_MESSAGES = {
  inProgress: 'update in progress',
  completed: 'update completed',
  rollbackCompleted: 'rollback completed',
  paused: (taskId: string) => `update paused due to failure or early termination of task ${taskId}`,
  rolledBack: (taskId: string) => `update rolled back due to failure or early termination of task ${taskId}`,
  rollbackPaused: (taskId: string) => `rollback paused due to failure or early termination of task ${taskId}`,
} as const;

/** Tasks that occupy one slot (replicated) or one node (global); more than one while a slot is being replaced. */
export type Slot = readonly Task[];

function runningAt(task: Task): number | null {
  if (task.status.startedAt !== undefined) return msFrom(task.status.startedAt);
  return task.status.state === 'running' ? msFrom(task.status.timestamp) : null;
}

function isFailure(task: Task, monitorMs: number): boolean {
  const s = task.status.state;
  if (s !== 'complete' && s !== 'failed' && s !== 'rejected') return false;
  const started = runningAt(task);
  return started === null || msFrom(task.status.timestamp) - started <= monitorMs;
}

export function updateService(tx: Tx, serviceAtStart: Service, slots: readonly Slot[]): void {
  let service = serviceAtStart;
  const state = service.updateStatus?.state;
  const dirty = (task: Task): boolean => isTaskDirty(service, task, tx.nodes.get(task.nodeId));
  const dirtySlots = slots.filter((slot) => slot.length > 1 || (slot.length === 1 && dirty(slot[0]!)));
  if (state === 'paused' || state === 'rollback_paused') {
    // Paused: no new slot is started, but slots already in flight finish (as Swarm's workers finish
    // the slot they hold), so a slot never keeps an old and a new task running side by side.
    advanceSlots(tx, service, dirtySlots, dirty, service.updateStatus?.state === 'rollback_paused' ? service.spec.rollbackConfig : service.spec.updateConfig, 0);
    return;
  }

  const inProgress = state === 'updating' || state === 'rollback_started';
  if (!inProgress) {
    if (dirtySlots.length === 0) return;
    service = tx.setUpdateStatus(service, { state: 'updating', message: UPDATE_MESSAGES.inProgress, startedAt: tx.timestamp });
  }
  const status = service.updateStatus!;
  const isRollback = status.state === 'rollback_started';
  const config: UpdateConfig = isRollback ? service.spec.rollbackConfig : service.spec.updateConfig;
  const startedAt = msFrom(status.startedAt);
  // The tasks this update made: clean, made by the updater since it started.
  const updateTasks = tx.serviceTasks(service.id).filter((t) => t.origin === 'update' && msFrom(t.createdAt) >= startedAt && !dirty(t));

  if (config.failureAction !== 'continue' && failureActionTaken(tx, service, status, config, updateTasks, Math.max(1, slots.length))) return;

  // Slots in flight: a new task not yet running, or running for less than `delay`.
  let inFlight = 0;
  let lastDone = startedAt;
  for (const t of updateTasks) {
    const ran = runningAt(t);
    const settledAt = ran ?? (rank(t.status.state) > RANK.running ? msFrom(t.status.timestamp) : null);
    if (settledAt === null) {
      if (rank(t.desiredState) <= RANK.running) inFlight++;
      continue;
    }
    const freeAt = settledAt + config.delayMs;
    lastDone = Math.max(lastDone, freeAt);
    if (freeAt > tx.now) {
      inFlight++;
      tx.wake(freeAt);
    }
  }

  const parallelism = config.parallelism === 0 ? Number.MAX_SAFE_INTEGER : config.parallelism;
  const unsettled = advanceSlots(tx, service, dirtySlots, dirty, config, parallelism - inFlight);
  if (unsettled > 0 || inFlight > 0) return;
  // Every slot is clean: watch the last new task for the monitor period, then complete.
  const monitorMs = config.delayMs >= config.monitorMs ? config.delayMs + 1_000 : config.monitorMs;
  const completeAt = updateTasks.length === 0 ? tx.now : lastDone + monitorMs;
  if (tx.now < completeAt) {
    tx.wake(completeAt);
    return;
  }
  const done: UpdateStatus = isRollback
    ? { state: 'rollback_completed', message: UPDATE_MESSAGES.rollbackCompleted, startedAt: status.startedAt, completedAt: tx.timestamp }
    : { state: 'completed', message: UPDATE_MESSAGES.completed, startedAt: status.startedAt, completedAt: tx.timestamp };
  tx.setUpdateStatus(service, done);
}

/**
 * Moves dirty slots along: a slot whose new task took over (or, start-first, runs) has its old tasks
 * shut down; up to `free` untouched slots get their replacement. Returns the slots not settled yet.
 */
function advanceSlots(tx: Tx, service: Service, dirtySlots: readonly Slot[], dirty: (t: Task) => boolean, config: UpdateConfig, free: number): number {
  let unsettled = 0;
  for (const slot of dirtySlots) {
    const clean = slot.filter((t) => !dirty(t));
    const fresh = clean.find((t) => t.desiredState === 'running') ?? clean.find((t) => rank(t.desiredState) < RANK.running);
    if (fresh) {
      // Start-first: the old task stays until its replacement runs.
      const waitForFresh = fresh.origin === 'update' && config.order === 'start-first' && fresh.desiredState === 'running' && fresh.status.state !== 'running';
      if (waitForFresh) unsettled++;
      else shutDown(tx, slot.filter((t) => t !== fresh));
      continue;
    }
    unsettled++;
    if (free <= 0) continue;
    free--;
    replaceSlot(tx, service, slot, config);
  }
  return unsettled;
}

function shutDown(tx: Tx, tasks: readonly Task[]): Task | undefined {
  let last: Task | undefined;
  for (const t of tasks) {
    const current = tx.task(t.id);
    if (!current || rank(current.desiredState) > RANK.running) continue;
    tx.setDesiredState(current, 'shutdown');
    last = current;
  }
  return last;
}

function replaceSlot(tx: Tx, service: Service, slot: Slot, config: UpdateConfig): void {
  const first = slot[0]!;
  const isGlobal = service.spec.mode.kind === 'global';
  const task = newTask(tx, service, isGlobal ? 0 : first.slot, isGlobal ? first.nodeId : '', 'update');
  if (config.order === 'start-first') {
    tx.createTask(task);
    return;
  }
  const replaced = shutDown(tx, slot);
  tx.createTask({
    ...task,
    desiredState: 'ready',
    delayedStart: replaced ? { notBefore: tx.timestamp, replaces: replaced.id } : { notBefore: tx.timestamp },
  });
}

/** Past the max failure ratio: pause, or roll back (a rollback that fails pauses). True when it acted. */
function failureActionTaken(tx: Tx, service: Service, status: UpdateStatus, config: UpdateConfig, updateTasks: readonly Task[], slotCount: number): boolean {
  const failures = updateTasks
    .filter((t) => isFailure(t, config.monitorMs))
    .sort((a, b) => msFrom(a.status.timestamp) - msFrom(b.status.timestamp) || (a.id < b.id ? -1 : 1));
  // The failure that tipped the ratio names the update's status, as in Swarm, which acts on it as it arrives.
  const tipping = failures.find((_, i) => (i + 1) / slotCount > config.maxFailureRatio);
  if (!tipping) return false;
  const isRollback = status.state === 'rollback_started';
  if (config.failureAction === 'rollback' && !isRollback && service.previousSpec !== undefined) {
    tx.rollback(service, { state: 'rollback_started', message: UPDATE_MESSAGES.rolledBack(tipping.id), startedAt: status.startedAt });
    // The rolled-back spec is reconciled on the next pass.
    tx.wake(tx.now);
    return true;
  }
  const message = config.failureAction === 'rollback' && isRollback ? UPDATE_MESSAGES.rollbackPaused(tipping.id) : UPDATE_MESSAGES.paused(tipping.id);
  tx.setUpdateStatus(service, { state: isRollback ? 'rollback_paused' : 'paused', message, startedAt: status.startedAt });
  return true;
}

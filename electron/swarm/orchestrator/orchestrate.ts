// One orchestrator pass: the store's services, tasks and nodes in; the store changes that bring them
// closer to what the services ask for out, plus when to run again. Pure and deterministic (time and
// new task IDs are given), and it derives everything from the state it is handed, so a new leader
// simply runs a pass: nothing of a previous leader's memory is needed.
//
// Order, so later steps see earlier decisions (one pass is one proposal):
//  1. tasks of removed services are marked REMOVE;
//  2. the constraint enforcer rejects tasks their nodes no longer fit;
//  3. tasks that stopped, or sit on nodes that are down, drained or gone, are restarted or shut down;
//  4. each service is reconciled (slots or nodes) and its rolling update advanced;
//  5. replacements whose delay has passed are started;
//  6. the reaper trims history and drops removed tasks.
import { TASK_HISTORY_RETENTION_LIMIT } from '../../../shared/services.js';
import { enforceConstraints } from './enforcer.js';
import { reconcileGlobal, restartGlobalTasks } from './global.js';
import { reapTasks } from './reaper.js';
import { reconcileReplicated, restartReplicatedTasks } from './replicated.js';
import { startDelayed } from './restart.js';
import { RANK, rank } from './tasks.js';
import { Tx, type OrchestratorChange, type OrchestratorState } from './tx.js';

export interface OrchestrateOptions {
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Makes IDs for new tasks (the leader's random IDs; a counter in tests). */
  readonly newId: () => string;
  /** Finished tasks kept per slot; Swarm's TaskHistoryRetentionLimit (5). */
  readonly historyLimit?: number;
}

export interface OrchestratorResult {
  readonly changes: readonly OrchestratorChange[];
  /** When a delay, a restart or an update's monitor period next needs a pass (ms since the epoch), or null. */
  readonly nextRunAt: number | null;
}

export function orchestrate(state: OrchestratorState, options: OrchestrateOptions): OrchestratorResult {
  const tx = new Tx(state, options.now, options.newId);

  for (const task of tx.allTasks()) {
    if (!tx.services.has(task.serviceId) && rank(task.desiredState) < RANK.remove) tx.setDesiredState(task, 'remove');
  }
  enforceConstraints(tx);
  for (const service of tx.sortedServices()) {
    if (service.spec.mode.kind === 'global') restartGlobalTasks(tx, service);
    else restartReplicatedTasks(tx, service);
  }
  for (const id of tx.sortedServices().map((s) => s.id)) {
    // Read again: an earlier step may have changed the service (an update started or rolled back).
    const service = tx.services.get(id)!;
    if (service.spec.mode.kind === 'global') reconcileGlobal(tx, service);
    else reconcileReplicated(tx, service);
  }
  startDelayed(tx);
  reapTasks(tx, options.historyLimit ?? TASK_HISTORY_RETENTION_LIMIT);

  return { changes: tx.changes(), nextRunAt: tx.nextRunAt };
}

// The task reaper (swarmkit orchestrator/taskreaper): keeps a few finished tasks per slot (or per node
// for a global service) as history, and drops tasks that were removed once no agent runs them.
import { TASK_HISTORY_RETENTION_LIMIT, type Task } from '../../../shared/services.js';
import { slotKey } from './restart.js';
import { RANK, hasStopped, msFrom, rank } from './tasks.js';
import type { Tx } from './tx.js';

function willNeverRun(task: Task): boolean {
  return rank(task.status.state) < RANK.assigned && rank(task.desiredState) > RANK.running;
}

export function reapTasks(tx: Tx, historyLimit: number = TASK_HISTORY_RETENTION_LIMIT): void {
  const slots = new Map<string, Task[]>();
  for (const task of tx.allTasks()) {
    // Removed (scale-down, service removal) and no longer running or never started: gone now.
    if (task.desiredState === 'remove' && (rank(task.status.state) < RANK.assigned || rank(task.status.state) >= RANK.complete)) {
      tx.deleteTask(task);
      continue;
    }
    const key = slotKey(task);
    const list = slots.get(key);
    if (list) list.push(task);
    else slots.set(key, [task]);
  }
  for (const tasks of slots.values()) {
    const service = tx.services.get(tasks[0]!.serviceId);
    if (!service) continue;
    // With max attempts set, Swarm keeps one more than that many so the restart count survives a leader change.
    const maxAttempts = service.spec.taskTemplate.restartPolicy.maxAttempts;
    const limit = maxAttempts > 0 ? maxAttempts + 1 : historyLimit;
    if (limit < 0 || tasks.length <= limit) continue;
    let count = tasks.length;
    const oldestFirst = [...tasks].sort((a, b) => msFrom(a.status.timestamp) - msFrom(b.status.timestamp) || (a.id < b.id ? -1 : 1));
    for (const t of oldestFirst) {
      if (count <= limit) break;
      if (hasStopped(t) || willNeverRun(t)) {
        tx.deleteTask(t);
        count--;
      }
    }
  }
}

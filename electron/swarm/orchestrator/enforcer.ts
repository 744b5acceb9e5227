// The constraint enforcer (swarmkit orchestrator/constraintenforcer): a task on an active node that no
// longer satisfies its service's constraints (a label was removed, say) is rejected, so the
// orchestrator restarts it where it fits. Drained nodes are the orchestrator's; paused ones are left alone.
import { RANK, rank, serviceConstraintsMatch } from './tasks.js';
import type { Tx } from './tx.js';

export const ENFORCER_MESSAGE = 'task rejected by constraint enforcer';
export const ENFORCER_ERR = 'assigned node no longer meets constraints';

export function enforceConstraints(tx: Tx): void {
  for (const task of tx.allTasks()) {
    const desired = rank(task.desiredState);
    if (desired < RANK.assigned || desired > RANK.complete || rank(task.status.state) >= RANK.complete) continue;
    if (task.nodeId === '') continue;
    const node = tx.nodes.get(task.nodeId);
    if (!node || node.availability !== 'active') continue;
    // The service's current constraints, not the task's copy: an update that only changed constraints leaves tasks as they were.
    const service = tx.services.get(task.serviceId);
    if (!service || serviceConstraintsMatch(service, node)) continue;
    tx.setStatus(task, { ...task.status, state: 'rejected', timestamp: tx.timestamp, message: ENFORCER_MESSAGE, err: ENFORCER_ERR });
  }
}

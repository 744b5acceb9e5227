// Swarm's names and labels for a task's container, so `docker ps` on a node reads as it would
// under Docker Swarm, plus one label of Skep's own to find its containers (and never Swarm's, when
// both run on one engine).
import type { AgentTask } from '../types.js';

export const LABEL_SERVICE_ID = 'com.docker.swarm.service.id';
export const LABEL_SERVICE_NAME = 'com.docker.swarm.service.name';
export const LABEL_TASK = 'com.docker.swarm.task';
export const LABEL_TASK_ID = 'com.docker.swarm.task.id';
export const LABEL_TASK_NAME = 'com.docker.swarm.task.name';
export const LABEL_NODE_ID = 'com.docker.swarm.node.id';
/** Set on every container Skep creates; adoption and cleanup look only at these. */
export const LABEL_SKEP_MANAGED = 'io.skep.managed';

/** `<service>.<slot>.<taskID>`, or `<service>.<nodeID>.<taskID>` for a global service's task. */
export function taskName(task: Pick<AgentTask, 'id' | 'serviceName' | 'slot' | 'nodeId'>): string {
  const slotOrNode = task.slot === undefined ? task.nodeId : String(task.slot);
  return `${task.serviceName}.${slotOrNode}.${task.id}`;
}

export function swarmLabels(task: AgentTask): Record<string, string> {
  return {
    ...task.spec.labels,
    [LABEL_SERVICE_ID]: task.serviceId,
    [LABEL_SERVICE_NAME]: task.serviceName,
    [LABEL_TASK]: '',
    [LABEL_TASK_ID]: task.id,
    [LABEL_TASK_NAME]: taskName(task),
    [LABEL_NODE_ID]: task.nodeId,
    [LABEL_SKEP_MANAGED]: 'true',
  };
}

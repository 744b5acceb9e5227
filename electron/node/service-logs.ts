// `service logs`: a service's log lines, read on the nodes that run its tasks (this node's own from
// its Worker, others' over the node protocol, `agent.taskLogs`) and merged in time order with
// Docker's prefix `<service>.<slot>.<task>@<node>`. Follow mode is not here yet: each call reads
// what the engines have now.
import type { Worker } from '../agent/worker.js';
import type { ConnectionPool } from '../net/index.js';
import { BOUNDS, call } from '../protocol/index.js';
import type { ServiceLogLine } from '../../shared/services.js';
import type { Manager } from '../swarm/manager.js';

export interface TaskLogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  readonly timestamp?: string;
}

export interface LogRequest {
  readonly tail?: number;
  readonly sinceSeconds?: number;
}

/** A task's lines from this node's own Worker, with timestamps so lines of several nodes can be merged. */
export async function localTaskLogs(worker: Worker, taskId: string, options: LogRequest): Promise<TaskLogLine[]> {
  const lines: TaskLogLine[] = [];
  const tail = options.tail ?? BOUNDS.logLines;
  for await (const line of worker.logs(taskId, { tail: Math.min(tail, BOUNDS.logLines), timestamps: true, ...(options.sinceSeconds !== undefined ? { sinceSeconds: options.sinceSeconds } : {}) })) {
    lines.push({ stream: line.stream, text: line.text.slice(0, BOUNDS.logLineChars), ...(line.timestamp ? { timestamp: line.timestamp } : {}) });
    if (lines.length >= BOUNDS.logLines) break;
  }
  return lines;
}

export async function serviceLogs(
  manager: Manager,
  self: { nodeId: string; worker: Worker; pool: ConnectionPool },
  ref: string,
  options: LogRequest,
): Promise<ServiceLogLine[]> {
  const service = await manager.services.inspect(ref);
  const tasks = (await manager.services.tasks({ services: [service.id] })).filter((t) => t.nodeId !== '' && t.status.containerStatus);
  const nodes = manager.raft.store.state.nodes;
  const perTask = await Promise.all(tasks.map(async (task) => {
    try {
      const lines = task.nodeId === self.nodeId
        ? await localTaskLogs(self.worker, task.id, options)
        : (await call(self.pool, { address: nodes[task.nodeId]?.clusterAddr ?? '', nodeId: task.nodeId }, 'agent.taskLogs', { taskId: task.id, ...options }, { timeoutMs: 10_000 })).lines;
      return lines.map((line): ServiceLogLine => ({ taskId: task.id, serviceName: task.serviceName, slot: task.slot, nodeId: task.nodeId, hostname: nodes[task.nodeId]?.description.hostname ?? task.nodeId, ...line }));
    } catch {
      // A node that is down, or a task whose container is gone: the other tasks' lines still come.
      return [];
    }
  }));
  return perTask.flat().sort((a, b) => (a.timestamp ?? '').localeCompare(b.timestamp ?? ''));
}

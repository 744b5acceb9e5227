// `service logs`: a service's log lines, read on the nodes that run its tasks (this node's own from
// its Worker, others' over the node protocol) with what Docker's prefix `<service>.<slot>.<task>@<node>`
// needs. Without --follow, `agent.taskLogs` reads what the engines have now and the lines are merged
// in time order. With --follow, each task's node follows its container's log and pushes lines as
// they are written (`agent.followTaskLogs` → `agent.taskLogLines`), tasks that start later are
// followed as they appear, and everything stops when the client goes (its AbortSignal).
import { randomBytes } from 'node:crypto';
import type { Worker } from '../agent/worker.js';
import type { ConnectionPool } from '../net/index.js';
import { BOUNDS, call, send } from '../protocol/index.js';
import type { ServiceLogLine, Task } from '../../shared/services.js';
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

// ---- following ----

export type LinesSink = (lines: readonly TaskLogLine[]) => void;

/** How long lines gather before one push: a burst of output becomes one message, a quiet log is still live. */
const PUSH_AFTER_MS = 25;

/**
 * Follows one of this node's tasks: the container's log from `tail`/`since`, then every new line,
 * handed over in batches until the log ends (the container stopped) or `signal` aborts. Throws at
 * once for a task this node doesn't run.
 */
export function followLocalTaskLogs(worker: Worker, taskId: string, options: LogRequest, onLines: LinesSink, signal: AbortSignal): Promise<void> {
  const source = worker.logs(taskId, { follow: true, timestamps: true, signal, ...(options.tail !== undefined ? { tail: options.tail } : {}), ...(options.sinceSeconds !== undefined ? { sinceSeconds: options.sinceSeconds } : {}) });
  let batch: TaskLogLine[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    onLines(lines);
  };
  return (async () => {
    try {
      for await (const line of source) {
        if (signal.aborted) break;
        batch.push({ stream: line.stream, text: line.text.slice(0, BOUNDS.logLineChars), ...(line.timestamp ? { timestamp: line.timestamp } : {}) });
        if (batch.length >= BOUNDS.logLinesPerPush) flush();
        else timer ??= setTimeout(flush, PUSH_AFTER_MS);
      }
    } catch {
      // The container went away under the reader: its log has ended.
    } finally {
      flush();
    }
  })();
}

interface RemoteStream {
  readonly nodeId: string;
  readonly onLines: LinesSink;
  readonly onEnd: () => void;
}

/**
 * The follows this manager has open on other nodes, by stream ID. Lines are taken only from the
 * node the stream was opened to; a stream whose node never ends it is closed by its follower.
 */
export class RemoteLogStreams {
  private readonly streams = new Map<string, RemoteStream>();

  open(nodeId: string, onLines: LinesSink, onEnd: () => void): string {
    const id = randomBytes(12).toString('hex');
    this.streams.set(id, { nodeId, onLines, onEnd });
    return id;
  }

  close(streamId: string): void {
    this.streams.delete(streamId);
  }

  /** `agent.taskLogLines` from `nodeId` (its certificate's). */
  deliver(nodeId: string, body: { streamId: string; lines: readonly TaskLogLine[]; end?: true }): void {
    const stream = this.streams.get(body.streamId);
    if (!stream || stream.nodeId !== nodeId) return;
    if (body.lines.length > 0) stream.onLines(body.lines);
    if (body.end) {
      this.streams.delete(body.streamId);
      stream.onEnd();
    }
  }

  get size(): number {
    return this.streams.size;
  }
}

/** A task worth following: placed, its container made (so its node has a log to read). */
function hasLog(task: Task): boolean {
  return task.nodeId !== '' && task.status.containerStatus !== undefined;
}

/**
 * `service logs --follow`: every task's lines as they are written, from the node that runs it,
 * handed to `onLines` with Docker's prefix fields. New tasks of the service are followed as they
 * get a container (all their lines: they are new). Resolves when the service is removed or
 * `signal` aborts; every follow it opened is stopped then.
 */
export async function followServiceLogs(
  manager: Manager,
  self: { nodeId: string; worker: Worker; pool: ConnectionPool; streams: RemoteLogStreams },
  ref: string,
  options: LogRequest,
  onLines: (lines: readonly ServiceLogLine[]) => void,
  signal: AbortSignal,
): Promise<void> {
  const service = await manager.services.inspect(ref);
  const store = manager.raft.store;
  const followed = new Set<string>();
  const stops = new Map<string, () => void>();
  let unwatch: (() => void) | undefined;
  let finish: (() => void) | undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const follow = (task: Task, request: LogRequest): void => {
    followed.add(task.id);
    const node = store.state.nodes[task.nodeId];
    const prefix = { taskId: task.id, serviceName: task.serviceName, slot: task.slot, nodeId: task.nodeId, hostname: node?.description.hostname ?? task.nodeId };
    const sink: LinesSink = (lines) => {
      if (!signal.aborted) onLines(lines.map((line) => ({ ...prefix, ...line })));
    };
    if (task.nodeId === self.nodeId) {
      const stop = new AbortController();
      stops.set(task.id, () => stop.abort());
      try {
        void followLocalTaskLogs(self.worker, task.id, request, sink, stop.signal).finally(() => stops.delete(task.id));
      } catch {
        stops.delete(task.id); // the worker no longer has it: nothing to read
      }
      return;
    }
    const peer = { address: node?.clusterAddr ?? '', nodeId: task.nodeId };
    const streamId = self.streams.open(task.nodeId, sink, () => stops.delete(task.id));
    stops.set(task.id, () => {
      self.streams.close(streamId);
      send(self.pool, peer, 'agent.stopTaskLogs', { streamId });
    });
    call(self.pool, peer, 'agent.followTaskLogs', { streamId, taskId: task.id, ...request }, { timeoutMs: 10_000 }).catch(() => {
      // A node that is down, or a task whose container is gone: the other tasks' lines still come.
      self.streams.close(streamId);
      stops.delete(task.id);
    });
  };

  const followNew = (request: LogRequest): void => {
    if (!store.state.services?.[service.id]) {
      finish?.();
      return;
    }
    for (const task of store.tasksOfService(service.id)) if (!followed.has(task.id) && hasLog(task)) follow(task, request);
  };

  const onAbort = (): void => finish?.();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) return;
    followNew(options);
    // Tasks that get a container from now on start with their first line.
    unwatch = store.watch(() => followNew({}));
    await done;
  } finally {
    signal.removeEventListener('abort', onAbort);
    unwatch?.();
    for (const stop of stops.values()) stop();
    stops.clear();
  }
}

// The worker: makes what runs on this node match what the managers assigned to it (swarmkit's
// agent/worker). The complete set arrives on every (re)connect, then changes. Containers found by
// Skep's label are adopted, never started twice; a container whose task is no longer assigned is
// removed — but only an explicit complete set says so: while the managers are unreachable nothing
// arrives, and everything keeps running.
import { skepError } from '../../shared/errors.js';
import { noopLogger, type Logger } from '../net/index.js';
import { TaskRunner } from './exec/task-runner.js';
import type {
  AgentTask, Executor, LogLine, LogOptions, PullProgress, TaskContainerSummary, TaskStatusReport,
} from './exec/types.js';

export interface WorkerOptions {
  readonly executor: Executor;
  /** Status reports, batched: every change of every task, in order, at most one call per batch. */
  readonly onStatus: (reports: readonly TaskStatusReport[]) => void;
  /** How long reports gather before they are handed over. */
  readonly batchDelayMs?: number;
  readonly onPullProgress?: (taskId: string, progress: PullProgress) => void;
  readonly pullMissingImages?: boolean;
  readonly retryDelayMs?: number;
  readonly logger?: Logger;
}

export interface AssignmentChanges {
  /** New tasks and tasks whose desired state changed. */
  readonly updated: readonly AgentTask[];
  /** Tasks the managers deleted: their containers go. */
  readonly removed: readonly string[];
}

export class Worker {
  readonly #options: WorkerOptions;
  readonly #logger: Logger;
  readonly #runners = new Map<string, TaskRunner>();
  #pending: TaskStatusReport[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  /** Assignments are applied one at a time, in the order they arrived. */
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? noopLogger;
  }

  /** The complete set of tasks assigned to this node; anything else of Skep's on this engine is removed. */
  assign(tasks: readonly AgentTask[]): Promise<void> {
    return this.#enqueue(async () => {
      const containers = await this.#options.executor.listTaskContainers();
      const assigned = new Set(tasks.map((task) => task.id));
      for (const [taskId] of this.#runners) {
        if (!assigned.has(taskId)) await this.#forget(taskId);
      }
      const byTask = new Map<string, TaskContainerSummary>();
      for (const container of containers) {
        if (!assigned.has(container.taskId) || byTask.has(container.taskId)) {
          // A task deleted while this node was away (or a duplicate): nothing will ever want it.
          this.#logger.info('removing the container of a task no longer assigned', { containerId: container.id, taskId: container.taskId });
          await this.#options.executor.removeContainer(container.id);
          continue;
        }
        byTask.set(container.taskId, container);
      }
      for (const task of tasks) this.#apply(task, byTask.get(task.id)?.id);
    });
  }

  /** Changes since the last complete set. */
  update(changes: AssignmentChanges): Promise<void> {
    return this.#enqueue(async () => {
      for (const taskId of changes.removed) await this.#forget(taskId);
      if (changes.updated.some((task) => !this.#runners.has(task.id))) {
        const containers = await this.#options.executor.listTaskContainers();
        const byTask = new Map(containers.map((container) => [container.taskId, container.id]));
        for (const task of changes.updated) this.#apply(task, byTask.get(task.id));
      } else {
        for (const task of changes.updated) this.#apply(task);
      }
    });
  }

  /** Every known task's latest status, for a manager that just (re)connected. */
  statuses(): TaskStatusReport[] {
    return [...this.#runners.values()].map((runner) => runner.status());
  }

  /** A task's log lines, read on this node, for the managers to stream. */
  logs(taskId: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const runner = this.#runners.get(taskId);
    if (!runner) throw skepError('TASK_NOT_ON_NODE', taskId);
    return runner.controller.logs(options);
  }

  /** Hands over the reports gathered so far without waiting for the batch delay. */
  flush(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#options.onStatus(batch);
  }

  /** Stops driving tasks; their containers keep running, to be adopted by the next worker. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await Promise.all([...this.#runners.values()].map((runner) => runner.close()));
    this.flush();
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(async () => {
      if (!this.#closed) await work();
    });
    // A failed assignment (engine unreachable) must not block the ones after it.
    this.#queue = next.catch((error: unknown) => {
      this.#logger.warn('applying assignments failed', { error: error instanceof Error ? error.message : String(error) });
    });
    return next;
  }

  #apply(task: AgentTask, containerId?: string): void {
    const existing = this.#runners.get(task.id);
    if (existing) {
      existing.update(task);
      return;
    }
    const runner = new TaskRunner(this.#options.executor.controller(task, containerId), {
      report: (status) => this.#report(status),
      ...(this.#options.onPullProgress ? { onPullProgress: this.#options.onPullProgress } : {}),
      ...(this.#options.pullMissingImages === undefined ? {} : { pullMissingImages: this.#options.pullMissingImages }),
      ...(this.#options.retryDelayMs === undefined ? {} : { retryDelayMs: this.#options.retryDelayMs }),
      logger: this.#logger,
    });
    this.#runners.set(task.id, runner);
    void runner.run();
  }

  async #forget(taskId: string): Promise<void> {
    const runner = this.#runners.get(taskId);
    if (!runner) return;
    this.#runners.delete(taskId);
    await runner.close();
    await runner.controller.remove();
  }

  #report(status: TaskStatusReport): void {
    this.#pending.push(status);
    this.#flushTimer ??= setTimeout(() => this.flush(), this.#options.batchDelayMs ?? 100);
  }
}

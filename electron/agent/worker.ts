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
      const assigned = new Set(tasks.map((task) => task.id));
      const unassigned = [...this.#runners.keys()].filter((taskId) => !assigned.has(taskId));
      await settleAll(unassigned.map((taskId) => this.#forget(taskId)), this.#logger);
      const containers = await this.#listContainers();
      const byTask = new Map<string, string>();
      const orphans: string[] = [];
      for (const container of containers ?? []) {
        // A task deleted while this node was away (or a duplicate): nothing will ever want it.
        if (!assigned.has(container.taskId) || byTask.has(container.taskId)) orphans.push(container.id);
        else byTask.set(container.taskId, container.id);
      }
      await settleAll(orphans.map((containerId) => {
        this.#logger.info('removing a container whose task is no longer assigned', { containerId });
        return this.#options.executor.removeContainer(containerId);
      }), this.#logger);
      for (const task of tasks) this.#apply(task, byTask.get(task.id), containers !== undefined);
    });
  }

  /** Changes since the last complete set. */
  update(changes: AssignmentChanges): Promise<void> {
    return this.#enqueue(async () => {
      await settleAll(changes.removed.map((taskId) => this.#forget(taskId)), this.#logger);
      const unknown = changes.updated.some((task) => !this.#runners.has(task.id));
      const containers = unknown ? await this.#listContainers() : undefined;
      const byTask = new Map((containers ?? []).map((container) => [container.taskId, container.id]));
      for (const task of changes.updated) this.#apply(task, byTask.get(task.id), containers !== undefined);
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
      this.#logger.warn('applying assignments failed', { error: errorText(error) });
    });
    return next;
  }

  /** `listed`: the engine's containers were just listed, so a task without one has none. */
  #apply(task: AgentTask, containerId: string | undefined, listed: boolean): void {
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
      noContainerYet: listed && containerId === undefined,
      logger: this.#logger,
    });
    this.#runners.set(task.id, runner);
    void runner.run();
  }

  /** A task the managers deleted: stopped within its grace period, then removed (as swarmkit's Remove). */
  async #forget(taskId: string): Promise<void> {
    const runner = this.#runners.get(taskId);
    if (!runner) return;
    this.#runners.delete(taskId);
    await runner.close();
    await runner.controller.shutdown();
    await runner.controller.remove();
  }

  /** Skep's containers on the engine, or undefined when the engine can't say (it may be restarting). */
  async #listContainers(): Promise<readonly TaskContainerSummary[] | undefined> {
    try {
      return await this.#options.executor.listTaskContainers();
    } catch (error) {
      // Tasks are still applied: each runner finds its container by name once the engine answers.
      this.#logger.warn('could not list the engine\'s containers', { error: errorText(error) });
      return undefined;
    }
  }

  #report(status: TaskStatusReport): void {
    this.#pending.push(status);
    this.#flushTimer ??= setTimeout(() => this.flush(), this.#options.batchDelayMs ?? 100);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs every removal even when some fail; the failures are logged (the next complete set retries them). */
async function settleAll(work: readonly Promise<void>[], logger: Logger): Promise<void> {
  for (const result of await Promise.allSettled(work)) {
    if (result.status === 'rejected') logger.warn('removing a container failed', { error: errorText(result.reason) });
  }
}

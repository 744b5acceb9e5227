// The node's side of task dispatch: fetches this node's complete set of tasks from the manager its
// session talks to (after every heartbeat answer and whenever a manager says they changed), hands it
// to the Worker (electron/agent/worker.ts) when it differs from the last one, and sends the
// Worker's status reports back in batches. While no manager answers nothing is handed over, so
// containers keep running; unsent reports wait (the latest per task) for the next manager.
import { SkepError } from '../../shared/errors.js';
import type { AgentTask, Executor, TaskStatusReport } from '../agent/exec/types.js';
import { Worker } from '../agent/worker.js';
import type { KnownManager } from '../agent/session.js';
import { managerRef } from '../agent/session.js';
import type { ConnectionPool, Logger } from '../net/index.js';
import { BOUNDS, call, type TaskReport } from '../protocol/index.js';

export interface AgentTasksOptions {
  readonly executor: Executor;
  readonly pool: ConnectionPool;
  readonly logger: Logger;
  readonly timeoutMs: number;
}

export class AgentTasks {
  readonly worker: Worker;
  private manager: KnownManager | undefined;
  private lastSet: string | undefined;
  /** The version and size of the last set a manager sent: it sends nothing while they still hold. */
  private known: { version: number; tasks: number } | undefined;
  private fetching = false;
  private fetchAgain = false;
  /** Reports not yet accepted by a manager: the latest per task, in the order they came. */
  private readonly unsent = new Map<string, TaskStatusReport>();
  private sending = false;
  private closed = false;

  constructor(private readonly options: AgentTasksOptions) {
    this.worker = new Worker({ executor: options.executor, onStatus: (reports) => this.queue(reports), logger: options.logger });
  }

  /** A manager answered a heartbeat: it is the one to ask. */
  heard(manager: KnownManager): void {
    this.manager = manager;
    void this.refresh();
    void this.send();
  }

  /** Fetches the complete set and applies it if it changed; a second call while one runs runs once more after it. */
  async refresh(): Promise<void> {
    if (this.closed || !this.manager) return;
    if (this.fetching) {
      this.fetchAgain = true;
      return;
    }
    this.fetching = true;
    try {
      do {
        this.fetchAgain = false;
        const known = this.known ? { known: this.known } : {};
        const set = await call(this.options.pool, managerRef(this.manager), 'dispatcher.tasks', known, { timeoutMs: this.options.timeoutMs });
        if (set.unchanged) continue;
        this.known = { version: set.version, tasks: set.tasks.length };
        const key = JSON.stringify(set.tasks);
        if (key !== this.lastSet && !this.closed) {
          this.lastSet = key;
          await this.worker.assign(set.tasks as readonly AgentTask[]);
        }
      } while (this.fetchAgain && !this.closed);
    } catch (error) {
      // The next heartbeat asks again; what runs keeps running.
      this.options.logger.debug('agent: fetching tasks failed', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      this.fetching = false;
    }
  }

  private queue(reports: readonly TaskStatusReport[]): void {
    for (const report of reports) {
      this.unsent.delete(report.taskId);
      this.unsent.set(report.taskId, report);
    }
    void this.send();
  }

  private async send(): Promise<void> {
    if (this.sending || !this.manager || this.unsent.size === 0) return;
    this.sending = true;
    try {
      while (this.unsent.size > 0 && this.manager) {
        const batch = [...this.unsent.values()].slice(0, BOUNDS.reportsPerBatch);
        await call(this.options.pool, managerRef(this.manager), 'dispatcher.updateTaskStatus', { reports: batch.map(wireReport) }, { timeoutMs: this.options.timeoutMs });
        // Only what was sent goes; a newer report of the same task that came meanwhile stays.
        for (const report of batch) if (this.unsent.get(report.taskId) === report) this.unsent.delete(report.taskId);
      }
    } catch (error) {
      // A task no longer this node's can't be reported by it: drop those reports, keep the rest.
      if (error instanceof SkepError && error.code === 'TASK_NOT_ON_NODE') this.unsent.clear();
      this.options.logger.debug('agent: sending task status failed; will retry', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      this.sending = false;
    }
  }

  /** Stops driving tasks; their containers keep running for the next start to adopt. */
  async close(): Promise<void> {
    this.closed = true;
    await this.worker.close();
  }
}

/** The protocol's bounds on free text: an engine's error can be long. */
function wireReport(report: TaskStatusReport): TaskReport {
  const { portStatus, err, ...rest } = report;
  return {
    ...rest,
    message: report.message.slice(0, BOUNDS.shortText),
    ...(err !== undefined ? { err: err.slice(0, 4096) } : {}),
    ...(portStatus ? { portStatus: [...portStatus] } : {}),
  };
}

// Helpers for the engine suite: tasks as a dispatcher would send them, a recorder of the status
// reports a worker hands over, and a separate dockerode client to check what really runs.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { inject } from 'vitest';
import type { AgentTask, ContainerSpec, TaskState, TaskStatusReport } from '../../electron/agent/exec/types.js';

export function engineSuite(): { host: string; image: string; skipReason: string } {
  const suite = inject('engineSuite');
  if (suite.skipReason) console.log(`[engine] skipped: ${suite.skipReason}`);
  return suite;
}

/** The test's own view of the engine, apart from the code under test. */
export function engineClient(host: string): Docker {
  return new Docker({ socketPath: host.slice('unix://'.length) });
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A Swarm-like ID: 25 characters of [a-z0-9]. */
export function newId(): string {
  return [...randomBytes(25)].map((byte) => ALPHABET[byte % ALPHABET.length]).join('');
}

/** A service name unique to this run, so nothing here can meet another run's containers. */
export function newServiceName(what: string): string {
  return `t${randomBytes(3).toString('hex')}-${what}`;
}

export function makeTask(image: string, fields: Partial<Omit<AgentTask, 'spec'>> & { spec?: Partial<ContainerSpec> } = {}): AgentTask {
  const { spec, ...rest } = fields;
  return {
    id: newId(),
    serviceId: newId(),
    serviceName: newServiceName('web'),
    slot: 1,
    nodeId: 'node-under-test',
    desiredState: 'RUNNING',
    ...rest,
    // A short grace period: busybox's sleep as PID 1 ignores SIGTERM, so stops take the whole grace.
    spec: { image, args: ['sleep', '1000'], stopGracePeriodMs: 1000, ...spec },
  };
}

export class StatusRecorder {
  readonly reports: TaskStatusReport[] = [];
  batches = 0;
  readonly #waiters = new Set<() => void>();

  readonly onStatus = (batch: readonly TaskStatusReport[]): void => {
    this.batches += 1;
    this.reports.push(...batch);
    for (const wake of this.#waiters) wake();
  };

  of(taskId: string): TaskStatusReport[] {
    return this.reports.filter((report) => report.taskId === taskId);
  }

  states(taskId: string): TaskState[] {
    return this.of(taskId).map((report) => report.state);
  }

  /** The first report of `taskId` in `state`; fails after `timeoutMs` with what was seen instead. */
  waitFor(taskId: string, state: TaskState, timeoutMs = 60_000): Promise<TaskStatusReport> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.of(taskId).find((report) => report.state === state);
        if (!found) return false;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`task ${taskId} never reported ${state}; it reported: ${JSON.stringify(this.of(taskId))}`));
      }, timeoutMs);
      if (!check()) this.#waiters.add(check);
    });
  }
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

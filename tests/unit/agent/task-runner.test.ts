// The task state machine's rules that don't need an engine to show: states and desired states
// only move forward, REJECTED before STARTING and FAILED after, and an engine that can't be
// reached is waited for rather than blamed on the task. The engine cases are in tests/engine.
import { describe, expect, it } from 'vitest';
import { TaskRunner } from '../../../electron/agent/exec/task-runner.js';
import {
  ExecutorError,
  type AgentTask, type ContainerState, type HealthVerdict, type LogLine, type TaskController, type TaskStatusReport,
} from '../../../electron/agent/exec/types.js';

/** Test double of a runtime (named as such): a container that lives in memory and exits on cue. */
class ScriptedController implements TaskController {
  readonly containerName: string;
  container: ContainerState | undefined;
  createFailures: unknown[] = [];
  #exit: ((code: number) => void) | undefined;

  constructor(readonly task: AgentTask) {
    this.containerName = `${task.serviceName}.${task.slot}.${task.id}`;
  }

  async imagePresent(): Promise<boolean> { return true; }
  async pull(): Promise<void> {}
  async create(): Promise<string> {
    const failure = this.createFailures.shift();
    if (failure) throw failure;
    this.container ??= {
      id: 'c0ffee', name: this.containerName, taskId: this.task.id, status: 'created', exitCode: 0,
      startedAt: '0001-01-01T00:00:00Z', pid: 0, ports: [], labels: {},
    };
    return this.container.id;
  }
  async start(): Promise<void> {
    this.container = { ...this.container!, status: 'running', pid: 42 };
  }
  async inspect(): Promise<ContainerState | undefined> { return this.container; }
  wait(signal: AbortSignal): Promise<number> {
    if (this.container?.status === 'exited') return Promise.resolve(this.container.exitCode);
    return new Promise((resolve, reject) => {
      this.#exit = resolve;
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  }
  health(): Promise<HealthVerdict> { return new Promise(() => {}); }
  exit(code: number): void {
    this.container = { ...this.container!, status: 'exited', exitCode: code };
    this.#exit?.(code);
  }
  async shutdown(): Promise<void> {
    if (this.container?.status === 'running') this.exit(143);
  }
  async remove(): Promise<void> { this.container = undefined; }
  async *logs(): AsyncIterable<LogLine> {}
}

function task(fields: Partial<AgentTask> = {}): AgentTask {
  return {
    id: 'task1', serviceId: 'svc1', serviceName: 'web', slot: 1, nodeId: 'node1', desiredState: 'RUNNING',
    spec: { image: 'skep-test/busybox:1' }, ...fields,
  };
}

function harness(agentTask: AgentTask): { runner: TaskRunner; controller: ScriptedController; reports: TaskStatusReport[]; until: (state: string) => Promise<void> } {
  const controller = new ScriptedController(agentTask);
  const reports: TaskStatusReport[] = [];
  const waiters: (() => void)[] = [];
  const runner = new TaskRunner(controller, {
    report: (status) => {
      reports.push(status);
      for (const wake of waiters.splice(0)) wake();
    },
    retryDelayMs: 5,
  });
  const until = async (state: string): Promise<void> => {
    while (!reports.some((report) => report.state === state)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  void runner.run();
  return { runner, controller, reports, until };
}

describe('TaskRunner', () => {
  it("ignores a stale assignment whose desired state is behind the one it already has", async () => {
    const { runner, controller, reports, until } = harness(task());
    await until('RUNNING');
    runner.update(task({ desiredState: 'SHUTDOWN' }));
    await until('SHUTDOWN');
    runner.update(task({ desiredState: 'RUNNING' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runner.task.desiredState).toBe('SHUTDOWN');
    expect(reports.map((report) => report.state)).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING', 'SHUTDOWN']);
    expect(controller.container?.status).toBe('exited');
    await runner.close();
  });

  it('rejects a task the engine refuses before it starts, keeping the last progress word as the message', async () => {
    const { runner, controller, reports, until } = harness(task());
    controller.createFailures.push(new ExecutorError('No such image: nothing:1', 'not-found'));
    await until('REJECTED');
    expect(reports.at(-1)).toMatchObject({ state: 'REJECTED', message: 'preparing', err: 'No such image: nothing:1' });
    await runner.close();
  });

  it('waits for an engine that is not answering instead of rejecting the task', async () => {
    const { runner, controller, reports, until } = harness(task());
    const refused = Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });
    controller.createFailures.push(refused, refused, refused);
    await until('RUNNING');
    expect(reports.map((report) => report.state)).not.toContain('REJECTED');
    await runner.close();
  });

  it('fails (not rejects) once started, and never reports a state behind the last one', async () => {
    const { runner, controller, reports, until } = harness(task());
    await until('RUNNING');
    controller.exit(2);
    await until('FAILED');
    expect(reports.at(-1)).toMatchObject({ state: 'FAILED', err: 'task: non-zero exit (2)', exitCode: 2 });
    runner.update(task({ desiredState: 'SHUTDOWN' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // A finished task stays as it finished: no SHUTDOWN after FAILED.
    expect(reports.at(-1)?.state).toBe('FAILED');
    await runner.close();
  });

  it("fails with Docker's text a task recorded as running whose container is gone (a task runs once)", async () => {
    const { runner, reports, until } = harness(task({ currentState: 'RUNNING' }));
    await until('FAILED');
    expect(reports).toEqual([expect.objectContaining({ state: 'FAILED', err: 'No such container: web.1.task1' })]);
    await runner.close();
  });
});

// One task's state machine, driving any executor: swarmkit's exec.Do as a loop. The task moves
// forward through Swarm's states toward what the managers want (desiredState), reports every
// change, and after an agent restart picks up the container it already has instead of making
// another one.
import { skepError } from '../../../shared/errors.js';
import { noopLogger, type Logger } from '../../net/index.js';
import {
  ExecutorError, hasFinished, isAfter, stateRank,
  type AgentTask, type ContainerState, type PublishedPort, type PullProgress, type TaskController,
  type TaskState, type TaskStatusReport,
} from './types.js';

export interface TaskRunnerOptions {
  readonly report: (status: TaskStatusReport) => void;
  readonly onPullProgress?: (taskId: string, progress: PullProgress) => void;
  /** Pull an image that is missing before creating the container (default true). */
  readonly pullMissingImages?: boolean;
  /** Wait before retrying a step the engine could not answer (it may be restarting). */
  readonly retryDelayMs?: number;
  /**
   * The engine was listed just before this runner was made and had no container for the task, so
   * adoption need not ask it again (one request less per new task: they add up at 100 tasks).
   */
  readonly noContainerYet?: boolean;
  readonly logger?: Logger;
}

/** Errors that say the engine is unreachable for now, not that the task is wrong. */
const TEMPORARY_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

function isTemporary(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TEMPORARY_CODES.has(code);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A step ended the task: REJECTED before STARTING, FAILED from STARTING on. */
class TaskFatal extends Error {
  constructor(message: string, readonly exitCode?: number) {
    super(message);
  }
}

type Outcome<T> = { kind: 'done'; value: T } | { kind: 'desired-changed' };

export class TaskRunner {
  readonly #controller: TaskController;
  readonly #options: TaskRunnerOptions;
  readonly #logger: Logger;
  #task: AgentTask;
  #state: TaskState;
  #message = '';
  #err: string | undefined;
  #containerId: string | undefined;
  #exitCode: number | undefined;
  #ports: readonly PublishedPort[] | undefined;
  #removed = false;
  #closed = false;
  /** This runner created the container and has not started it yet: its state is known without asking. */
  #createdHere = false;
  /** Aborted (and replaced) whenever the desired state changes or the runner closes. */
  #interrupt = new AbortController();
  #done: Promise<void> | undefined;

  constructor(controller: TaskController, options: TaskRunnerOptions) {
    this.#controller = controller;
    this.#options = options;
    this.#logger = options.logger ?? noopLogger;
    this.#task = controller.task;
    this.#state = controller.task.currentState ?? 'NEW';
  }

  get task(): AgentTask { return this.#task; }
  get state(): TaskState { return this.#state; }
  get containerId(): string | undefined { return this.#containerId; }
  get controller(): TaskController { return this.#controller; }
  /** The container is gone for good (desired REMOVE): the worker may forget this task. */
  get removed(): boolean { return this.#removed; }

  /** The latest status, as it would be reported now. */
  status(): TaskStatusReport {
    return {
      taskId: this.#task.id,
      state: this.#state,
      message: this.#message,
      ...(this.#err === undefined ? {} : { err: this.#err }),
      ...(this.#containerId === undefined ? {} : { containerId: this.#containerId }),
      ...(this.#exitCode === undefined ? {} : { exitCode: this.#exitCode }),
      ...(this.#ports === undefined ? {} : { portStatus: this.#ports }),
      timestamp: new Date().toISOString(),
    };
  }

  /** Starts driving the task; resolves when the runner has nothing left to do (removed or closed). */
  run(): Promise<void> {
    this.#done ??= this.#loop().catch((error: unknown) => {
      this.#logger.error('task runner stopped on an unexpected error', { taskId: this.#task.id, error: errorText(error) });
    });
    return this.#done;
  }

  /** The managers changed the task; only its desired state matters (a task runs its spec once). */
  update(task: AgentTask): void {
    if (task.id !== this.#task.id) throw new Error(`task ${task.id} given to the runner of ${this.#task.id}`);
    const changed = task.desiredState !== this.#task.desiredState;
    // Desired states only move forward too: a stale assignment must not revive a task.
    if (isAfter(this.#task.desiredState, task.desiredState)) return;
    this.#task = { ...this.#task, desiredState: task.desiredState };
    if (changed) this.#wake();
  }

  /** Stops driving the task and leaves its container as it is (the agent is going away). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    await this.#done;
  }

  #wake(): void {
    const previous = this.#interrupt;
    this.#interrupt = new AbortController();
    previous.abort();
  }

  #transition(state: TaskState, message: string, fields: { exitCode?: number; ports?: readonly PublishedPort[] } = {}): void {
    if (isAfter(this.#state, state)) throw new Error(`task ${this.#task.id}: ${this.#state} → ${state} goes backward`);
    this.#state = state;
    this.#message = message;
    this.#err = undefined;
    if (fields.exitCode !== undefined) this.#exitCode = fields.exitCode;
    if (fields.ports !== undefined) this.#ports = fields.ports;
    this.#publish();
  }

  #fail(fatal: TaskFatal): void {
    // Swarm keeps the last progress word as the message and puts the reason in err.
    this.#state = stateRank(this.#state) < stateRank('STARTING') ? 'REJECTED' : 'FAILED';
    this.#err = fatal.message;
    if (fatal.exitCode !== undefined) this.#exitCode = fatal.exitCode;
    this.#publish();
  }

  #publish(): void {
    this.#options.report(this.status());
  }

  async #loop(): Promise<void> {
    await this.#step(() => this.#adopt());
    while (!this.#closed && !this.#removed) {
      const interrupt = this.#interrupt.signal;
      const desired = this.#task.desiredState;
      if (stateRank(desired) >= stateRank('SHUTDOWN')) {
        if (!hasFinished(this.#state)) await this.#step(() => this.#shutdown());
        if (stateRank(desired) >= stateRank('REMOVE')) {
          await this.#step(() => this.#remove());
          continue;
        }
        await untilAborted(interrupt);
        continue;
      }
      if (isAfter(this.#state, desired) || hasFinished(this.#state)) {
        await untilAborted(interrupt);
        continue;
      }
      await this.#step(() => this.#advance(interrupt));
    }
  }

  /** Runs one step; fatal errors end the task, temporary ones are retried after a pause. */
  async #step(action: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        await action();
        return;
      } catch (error) {
        if (this.#closed) return;
        if (error instanceof TaskFatal) {
          this.#fail(error);
          return;
        }
        if (isTemporary(error) || !(error instanceof ExecutorError)) {
          this.#logger.warn('the engine did not answer; retrying', { taskId: this.#task.id, error: errorText(error) });
          await delay(this.#options.retryDelayMs ?? 1000, this.#interrupt.signal);
          if (this.#closed) return;
          continue;
        }
        this.#fail(new TaskFatal(error.message));
        return;
      }
    }
  }

  /** Moves one state forward (or waits in it), as far as the desired state allows. */
  async #advance(interrupt: AbortSignal): Promise<void> {
    const desired = this.#task.desiredState;
    switch (this.#state) {
      case 'PREPARING':
        await this.#prepare();
        this.#transition('READY', 'prepared');
        return;
      case 'STARTING':
        await this.#start(interrupt);
        return;
      case 'RUNNING':
        await this.#watch(interrupt);
        return;
      default:
        break;
    }
    // The remaining states pause until the desired state is beyond them (READY waits out a restart delay).
    if (!isAfter(desired, this.#state)) {
      await untilAborted(interrupt);
      return;
    }
    switch (this.#state) {
      case 'NEW': case 'PENDING': case 'ASSIGNED':
        this.#transition('ACCEPTED', 'accepted');
        return;
      case 'ACCEPTED':
        this.#transition('PREPARING', 'preparing');
        return;
      case 'READY':
        this.#transition('STARTING', 'starting');
        return;
      default:
        await untilAborted(interrupt);
    }
  }

  /** Picks up the container this task already has (after an agent or engine restart). */
  async #adopt(): Promise<void> {
    const container = this.#options.noContainerYet ? undefined : await this.#controller.inspect();
    if (!container) {
      const recorded = this.#state;
      const wanted = stateRank(this.#task.desiredState) < stateRank('SHUTDOWN');
      if (wanted && stateRank(recorded) >= stateRank('STARTING') && !hasFinished(recorded)) {
        // A task runs once: a container that vanished is a failure, never a second run.
        throw new TaskFatal(skepError('TASK_NO_SUCH_CONTAINER', this.#controller.containerName).message);
      }
      return;
    }
    this.#containerId = container.id;
    const found = stateOfContainer(container);
    if (isAfter(found, this.#state)) this.#state = found;
    this.#message = messageOf(this.#state);
    this.#ports = container.ports;
    this.#logger.info('adopted the existing container', { taskId: this.#task.id, containerId: container.id, state: this.#state });
    this.#publish();
  }

  async #prepare(): Promise<void> {
    const controller = this.#controller;
    if (this.#options.pullMissingImages !== false && !(await controller.imagePresent())) {
      try {
        await controller.pull((progress) => this.#options.onPullProgress?.(this.#task.id, progress), this.#interrupt.signal);
      } catch (error) {
        // As Swarm: a failed pull is only logged; if the image really is missing, create says so.
        this.#logger.warn('pulling the image failed', { taskId: this.#task.id, image: this.#task.spec.image, error: errorText(error) });
      }
    }
    this.#containerId = await controller.create();
    this.#createdHere = true;
  }

  async #start(interrupt: AbortSignal): Promise<void> {
    const controller = this.#controller;
    let status = this.#createdHere ? 'created' : (await controller.inspect())?.status;
    this.#createdHere = false;
    if (status === undefined) {
      // READY was recorded before a restart but the container is gone: make it again, it never ran.
      this.#containerId = await controller.create();
      status = 'created';
    }
    if (status === 'created') await controller.start();
    if (!hasHealthcheck(this.#task)) {
      await this.#enterRunning();
      return;
    }
    const outcome = await raceInterrupt(interrupt, (signal) =>
      Promise.race([
        controller.health(signal, ['healthy', 'unhealthy']).then((verdict) => ({ verdict })),
        controller.wait(signal).then((exitCode) => ({ exitCode })),
      ]));
    if (outcome.kind === 'desired-changed') return;
    const result = outcome.value;
    if ('verdict' in result && result.verdict === 'unhealthy') await this.#failUnhealthy();
    if ('exitCode' in result && result.exitCode !== 0) {
      throw new TaskFatal(skepError('TASK_NON_ZERO_EXIT', result.exitCode).message, result.exitCode);
    }
    // Healthy, or exited 0 before a verdict (Swarm then lets RUNNING see the exit).
    await this.#enterRunning();
  }

  async #enterRunning(): Promise<void> {
    // Only published ports need the engine's word (it may have picked the host port).
    const ports = (this.#task.spec.ports ?? []).length === 0 ? [] : ((await this.#controller.inspect())?.ports ?? []);
    this.#transition('RUNNING', 'started', { ports });
  }

  async #watch(interrupt: AbortSignal): Promise<void> {
    const controller = this.#controller;
    const watchers = (signal: AbortSignal): Promise<{ exitCode: number } | { verdict: 'unhealthy' }> => {
      const exit = controller.wait(signal).then((exitCode) => ({ exitCode }));
      if (!hasHealthcheck(this.#task)) return exit;
      return Promise.race([exit, controller.health(signal, ['unhealthy']).then(() => ({ verdict: 'unhealthy' as const }))]);
    };
    const outcome = await raceInterrupt(interrupt, watchers);
    if (outcome.kind === 'desired-changed') return;
    const result = outcome.value;
    if ('verdict' in result) await this.#failUnhealthy();
    else if (result.exitCode === 0) this.#transition('COMPLETE', 'finished', { exitCode: 0 });
    else throw new TaskFatal(skepError('TASK_NON_ZERO_EXIT', result.exitCode).message, result.exitCode);
  }

  async #failUnhealthy(): Promise<never> {
    // As Swarm: an unhealthy container is stopped, and the orchestrator replaces the task.
    await this.#controller.shutdown();
    const after = await this.#controller.inspect();
    throw new TaskFatal(skepError('TASK_UNHEALTHY').message, after?.exitCode);
  }

  async #shutdown(): Promise<void> {
    let exitCode: number | undefined;
    if (this.#containerId !== undefined || stateRank(this.#state) >= stateRank('READY')) {
      await this.#controller.shutdown();
      exitCode = (await this.#controller.inspect())?.exitCode;
    }
    this.#transition('SHUTDOWN', 'shutdown', exitCode === undefined ? {} : { exitCode });
  }

  async #remove(): Promise<void> {
    await this.#controller.remove();
    this.#removed = true;
  }
}

function hasHealthcheck(task: AgentTask): boolean {
  const test = task.spec.healthcheck?.test;
  return test !== undefined && test.length > 0 && test[0] !== 'NONE';
}

/** The state a found container puts its task in; RUNNING also covers "ran and exited" (watch sees the exit). */
function stateOfContainer(container: ContainerState): TaskState {
  if (container.status === 'created') return 'READY';
  if (container.status === 'running' && container.health !== undefined && container.health !== 'healthy') return 'STARTING';
  return 'RUNNING';
}

function messageOf(state: TaskState): string {
  const words: Partial<Record<TaskState, string>> = {
    ACCEPTED: 'accepted', PREPARING: 'preparing', READY: 'prepared', STARTING: 'starting',
    RUNNING: 'started', COMPLETE: 'finished', SHUTDOWN: 'shutdown',
  };
  return words[state] ?? '';
}

/** Runs `work` until it settles or the desired state changes, then cancels what is left of it. */
async function raceInterrupt<T>(interrupt: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<Outcome<T>> {
  const cancel = new AbortController();
  try {
    return await Promise.race([
      work(cancel.signal).then((value) => ({ kind: 'done' as const, value })),
      untilAborted(interrupt).then(() => ({ kind: 'desired-changed' as const })),
    ]);
  } finally {
    cancel.abort();
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

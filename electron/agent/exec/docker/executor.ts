// Tasks as containers on one Docker Engine, through dockerode (moby's cluster executor, in short).
import type Docker from 'dockerode';
import type { ContainerCreateOptions, ContainerInspectInfo } from 'dockerode';
import {
  ExecutorError,
  type AgentTask, type ContainerState, type Executor, type HealthVerdict, type LogLine, type LogOptions,
  type PublishedPort, type PullProgress, type TaskContainerSummary, type TaskController,
} from '../types.js';
import { skepError } from '../../../../shared/errors.js';
import { defaultEndpoint, dockerFor } from './engine.js';
import { demultiplexLogs } from './logs.js';
import { LABEL_NODE_ID, LABEL_SERVICE_ID, LABEL_SKEP_MANAGED, LABEL_TASK_ID, swarmLabels, taskName } from './names.js';

/** Swarm's default stop grace period. */
const DEFAULT_STOP_GRACE_MS = 10_000;
const MS_TO_NS = 1_000_000;

export interface DockerExecutorOptions {
  /** DOCKER_HOST-style address; defaults to DOCKER_HOST or the platform's default socket. */
  readonly host?: string;
  /**
   * This node's ID: listings (adoption and cleanup) see only containers labelled with it, so
   * several nodes sharing one engine (a test lab) never adopt or remove each other's containers.
   */
  readonly nodeId?: string;
}

interface EngineErrorShape {
  readonly statusCode?: number;
  readonly json?: { readonly message?: string } | null;
  readonly message?: string;
}

/** The engine's own text ("No such image: …") as an ExecutorError; transport errors pass through. */
function engineError(error: unknown): unknown {
  const shape = error as EngineErrorShape | null;
  if (typeof shape?.statusCode !== 'number') return error;
  const message = shape.json?.message ?? shape.message ?? `engine answered ${shape.statusCode}`;
  const kinds: Readonly<Record<number, ExecutorError['kind']>> = { 304: 'not-modified', 404: 'not-found', 409: 'conflict' };
  const kind = kinds[shape.statusCode] ?? 'engine';
  return new ExecutorError(message, kind);
}

async function engineCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw engineError(error);
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof ExecutorError && error.kind === 'not-found';
}

export class DockerExecutor implements Executor {
  readonly docker: Docker;
  readonly #nodeId: string | undefined;

  constructor(options: DockerExecutorOptions = {}) {
    this.docker = dockerFor(options.host ?? defaultEndpoint());
    this.#nodeId = options.nodeId;
  }

  controller(task: AgentTask, containerId?: string): TaskController {
    return new DockerTaskController(this.docker, task, containerId);
  }

  async listTaskContainers(): Promise<TaskContainerSummary[]> {
    const containers = await engineCall(() =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL_SKEP_MANAGED}=true`, ...(this.#nodeId ? [`${LABEL_NODE_ID}=${this.#nodeId}`] : [])] } }));
    return containers.map((info) => ({
      id: info.Id,
      name: (info.Names[0] ?? '').replace(/^\//, ''),
      taskId: info.Labels[LABEL_TASK_ID] ?? '',
      serviceId: info.Labels[LABEL_SERVICE_ID] ?? '',
      status: info.State as TaskContainerSummary['status'],
    }));
  }

  async removeContainer(containerId: string): Promise<void> {
    await removeQuietly(this.docker, containerId);
  }
}

async function removeQuietly(docker: Docker, containerId: string): Promise<void> {
  try {
    await engineCall(() => docker.getContainer(containerId).remove({ force: true, v: true }));
  } catch (error) {
    // Already gone, or being removed by someone else: either way it will not be there.
    if (isNotFound(error) || (error instanceof ExecutorError && error.kind === 'conflict')) return;
    throw error;
  }
}

class DockerTaskController implements TaskController {
  readonly containerName: string;
  /** The container's ID once known (adopted or created); its name until then. */
  #container: string;

  constructor(private readonly docker: Docker, readonly task: AgentTask, containerId?: string) {
    this.containerName = taskName(task);
    this.#container = containerId ?? this.containerName;
  }

  async imagePresent(): Promise<boolean> {
    try {
      await engineCall(() => this.docker.getImage(this.task.spec.image).inspect());
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async pull(onProgress: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void> {
    const stream = await engineCall(() =>
      this.docker.pull(this.task.spec.image, signal ? { abortSignal: signal } : {}) as Promise<NodeJS.ReadableStream>);
    for await (const event of jsonLines(stream)) {
      const progress = event as { status?: string; id?: string; error?: string; progressDetail?: { current?: number; total?: number } };
      // The engine reports a failed pull inside a 200 stream, as an event with `error`.
      if (progress.error) throw new ExecutorError(progress.error);
      onProgress({
        status: progress.status ?? '',
        ...(progress.id === undefined ? {} : { layer: progress.id }),
        ...(progress.progressDetail?.current === undefined ? {} : { currentBytes: progress.progressDetail.current }),
        ...(progress.progressDetail?.total === undefined ? {} : { totalBytes: progress.progressDetail.total }),
      });
    }
  }

  async create(): Promise<string> {
    try {
      const container = await engineCall(() => this.docker.createContainer(this.#createOptions()));
      this.#container = container.id;
      return container.id;
    } catch (error) {
      if (!(error instanceof ExecutorError && error.kind === 'conflict')) throw error;
      // Created before an agent restart: the name is the task's, so the container is ours.
      const existing = await this.inspect();
      if (!existing) throw error;
      this.#container = existing.id;
      return existing.id;
    }
  }

  async start(): Promise<void> {
    try {
      await engineCall(() => this.docker.getContainer(this.#container).start());
    } catch (error) {
      if (error instanceof ExecutorError && error.kind === 'not-modified') return; // already started
      throw error;
    }
  }

  async inspect(): Promise<ContainerState | undefined> {
    try {
      const info = await engineCall(() => this.docker.getContainer(this.#container).inspect());
      return containerState(info);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  // wait and health follow the engine's event stream rather than a long-poll request: a stream
  // ends when the engine goes away (a restart), where a pending /wait would hang unanswered.
  async wait(signal: AbortSignal): Promise<number> {
    return this.#untilEvent(signal, ['die'], async () => {
      const now = await this.inspect();
      if (!now) throw new ExecutorError(skepError('TASK_NO_SUCH_CONTAINER', this.containerName).message, 'not-found');
      return now.status === 'exited' || now.status === 'dead' ? now.exitCode : undefined;
    });
  }

  async health(signal: AbortSignal, until: readonly HealthVerdict[]): Promise<HealthVerdict> {
    return this.#untilEvent(signal, ['health_status'], async () => {
      const now = (await this.inspect())?.health;
      return now !== undefined && now !== 'starting' && until.includes(now) ? now : undefined;
    });
  }

  /** Looks with `check` now and after each of the container's `events`, until it answers. */
  async #untilEvent<T>(signal: AbortSignal, events: readonly string[], check: () => Promise<T | undefined>): Promise<T> {
    // Listen first, then look: a change between the two is seen by one or the other.
    const stream = await engineCall(() => this.docker.getEvents({
      filters: { type: ['container'], container: [this.#container], event: [...events] },
      abortSignal: signal,
    }));
    try {
      const now = await check();
      if (now !== undefined) return now;
      for await (const _event of jsonLines(stream)) {
        const after = await check();
        if (after !== undefined) return after;
      }
      // The engine went away (a restart): not the task's fault, so the runner retries.
      throw Object.assign(new Error('the engine closed its event stream'), { code: 'ECONNRESET' });
    } finally {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    }
  }

  async shutdown(): Promise<void> {
    const graceSeconds = Math.ceil((this.task.spec.stopGracePeriodMs ?? DEFAULT_STOP_GRACE_MS) / 1000);
    try {
      await engineCall(() => this.docker.getContainer(this.#container).stop({ t: graceSeconds }));
    } catch (error) {
      if (isNotFound(error) || (error instanceof ExecutorError && error.kind === 'not-modified')) return; // gone or already stopped
      throw error;
    }
  }

  async remove(): Promise<void> {
    await removeQuietly(this.docker, this.#container);
  }

  async *logs(options: LogOptions): AsyncIterable<LogLine> {
    const container = this.docker.getContainer(this.#container);
    const common = {
      stdout: true,
      stderr: true,
      timestamps: options.timestamps ?? false,
      ...(options.tail === undefined ? {} : { tail: options.tail }),
      ...(options.sinceSeconds === undefined ? {} : { since: options.sinceSeconds }),
      ...(options.signal === undefined ? {} : { abortSignal: options.signal }),
    };
    const source: AsyncIterable<Buffer> | Iterable<Buffer> = options.follow
      ? (await engineCall(() => container.logs({ ...common, follow: true }))) as unknown as AsyncIterable<Buffer>
      : [await engineCall(() => container.logs({ ...common, follow: false }))];
    try {
      yield* demultiplexLogs(source, options.timestamps ?? false);
    } catch (error) {
      if (options.signal?.aborted) return; // the reader stopped following
      throw error;
    }
  }

  #createOptions(): ContainerCreateOptions {
    const spec = this.task.spec;
    const ports = spec.ports ?? [];
    const options: ContainerCreateOptions = {
      name: this.containerName,
      Image: spec.image,
      Labels: swarmLabels(this.task),
      Env: [...(spec.env ?? [])],
      ...(spec.command ? { Entrypoint: [...spec.command] } : {}),
      ...(spec.args ? { Cmd: [...spec.args] } : {}),
      ...(spec.hostname ? { Hostname: spec.hostname } : {}),
      ...(spec.user ? { User: spec.user } : {}),
      ...(spec.workdir ? { WorkingDir: spec.workdir } : {}),
      ...(spec.stopSignal ? { StopSignal: spec.stopSignal } : {}),
      StopTimeout: Math.ceil((spec.stopGracePeriodMs ?? DEFAULT_STOP_GRACE_MS) / 1000),
      ...(ports.length > 0 ? { ExposedPorts: Object.fromEntries(ports.map((p) => [`${p.targetPort}/${p.protocol}`, {}])) } : {}),
      HostConfig: {
        Mounts: (spec.mounts ?? []).map((mount) => ({
          Type: mount.type,
          Source: mount.source,
          Target: mount.target,
          ReadOnly: mount.readOnly ?? false,
        })),
        PortBindings: Object.fromEntries(ports.map((p) => [`${p.targetPort}/${p.protocol}`, [{ HostPort: String(p.publishedPort) }]])),
        ...(spec.limits?.nanoCpus ? { NanoCpus: spec.limits.nanoCpus } : {}),
        ...(spec.limits?.memoryBytes ? { Memory: spec.limits.memoryBytes } : {}),
      },
    };
    const check = spec.healthcheck;
    if (check) {
      options.Healthcheck = {
        Test: [...check.test],
        ...(check.intervalMs === undefined ? {} : { Interval: check.intervalMs * MS_TO_NS }),
        ...(check.timeoutMs === undefined ? {} : { Timeout: check.timeoutMs * MS_TO_NS }),
        ...(check.retries === undefined ? {} : { Retries: check.retries }),
        ...(check.startPeriodMs === undefined ? {} : { StartPeriod: check.startPeriodMs * MS_TO_NS }),
      };
    }
    return options;
  }
}

function containerState(info: ContainerInspectInfo): ContainerState {
  const labels = info.Config.Labels ?? {};
  const health = (info.State as { Health?: { Status?: string } }).Health?.Status;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    taskId: labels[LABEL_TASK_ID] ?? '',
    status: info.State.Status as ContainerState['status'],
    exitCode: info.State.ExitCode,
    startedAt: info.State.StartedAt,
    pid: info.State.Pid,
    ...(health === 'starting' || health === 'healthy' || health === 'unhealthy' ? { health } : {}),
    ports: publishedPorts(info),
    labels,
  };
}

function publishedPorts(info: ContainerInspectInfo): PublishedPort[] {
  const bindings = (info.NetworkSettings?.Ports ?? {}) as Record<string, { HostPort: string }[] | null>;
  const ports = new Map<string, PublishedPort>();
  for (const [key, hosts] of Object.entries(bindings)) {
    const [target, protocol] = key.split('/');
    for (const host of hosts ?? []) {
      const port: PublishedPort = { protocol: protocol === 'udp' ? 'udp' : 'tcp', targetPort: Number(target), publishedPort: Number(host.HostPort) };
      // IPv4 and IPv6 bindings of one port are one published port.
      ports.set(`${port.protocol}/${port.targetPort}/${port.publishedPort}`, port);
    }
  }
  return [...ports.values()];
}

/** Newline-delimited JSON from an engine stream (pull progress, events). */
async function* jsonLines(stream: NodeJS.ReadableStream): AsyncGenerator<unknown> {
  let buffered = '';
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== '') yield JSON.parse(line) as unknown;
    }
  }
  if (buffered.trim() !== '') yield JSON.parse(buffered) as unknown;
}

// The executor contract: a task as the agent receives it, the status it reports back, and the
// runtime interface the task runner drives (swarmkit's agent/exec Controller, in TypeScript).
// Everything that travels between nodes here is plain JSON: no classes, no Dates, no Buffers.

/** Swarm's task states in order; a task's state only moves forward through this list. */
export const TASK_STATES = [
  'NEW', 'PENDING', 'ASSIGNED', 'ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING',
  'COMPLETE', 'SHUTDOWN', 'FAILED', 'REJECTED', 'REMOVE', 'ORPHANED',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

export function stateRank(state: TaskState): number {
  return TASK_STATES.indexOf(state);
}

/** True when `a` comes after `b` in Swarm's order. */
export function isAfter(a: TaskState, b: TaskState): boolean {
  return stateRank(a) > stateRank(b);
}

/** COMPLETE and everything after it: the container has run (or never will) and stays stopped. */
export function hasFinished(state: TaskState): boolean {
  return stateRank(state) >= stateRank('COMPLETE');
}

export interface PublishedPort {
  readonly protocol: 'tcp' | 'udp';
  readonly targetPort: number;
  /** Bound on the node's own addresses (publish mode host; the routing mesh is not Skep's). */
  readonly publishedPort: number;
}

export interface Mount {
  readonly type: 'bind' | 'volume';
  /** A host path (bind) or a volume name (volume; empty for an anonymous volume). */
  readonly source: string;
  readonly target: string;
  readonly readOnly?: boolean;
}

export interface Healthcheck {
  /** Docker's form: ["CMD", …], ["CMD-SHELL", "…"] or ["NONE"]. */
  readonly test: readonly string[];
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly startPeriodMs?: number;
}

export interface ResourceLimits {
  /** CPUs × 1e9, as Docker's NanoCPUs. */
  readonly nanoCpus?: number;
  readonly memoryBytes?: number;
}

/** What to run: the container part of a service's task template. */
export interface ContainerSpec {
  readonly image: string;
  /** Replaces the image's entrypoint (swarmkit's `command`). */
  readonly command?: readonly string[];
  /** Replaces the image's cmd (swarmkit's `args`). */
  readonly args?: readonly string[];
  /** KEY=value. */
  readonly env?: readonly string[];
  /** Container labels (the service's --container-label); Swarm's own labels are added by the executor. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly mounts?: readonly Mount[];
  readonly ports?: readonly PublishedPort[];
  readonly limits?: ResourceLimits;
  readonly healthcheck?: Healthcheck;
  readonly stopSignal?: string;
  /** Time between the stop signal and SIGKILL; Swarm's default is 10 s. */
  readonly stopGracePeriodMs?: number;
  readonly hostname?: string;
  readonly user?: string;
  readonly workdir?: string;
}

/** A task as the dispatcher hands it to a node's agent. */
export interface AgentTask {
  readonly id: string;
  readonly serviceId: string;
  readonly serviceName: string;
  /** Replicated services: the slot (1…N). Global services have none; the node names the task. */
  readonly slot?: number;
  readonly nodeId: string;
  /** Written only by managers. */
  readonly desiredState: TaskState;
  /** The state the managers last recorded from this node's reports; absent means NEW. */
  readonly currentState?: TaskState;
  readonly spec: ContainerSpec;
}

/** One status report from the agent; the managers store it as the task's status. */
export interface TaskStatusReport {
  readonly taskId: string;
  readonly state: TaskState;
  /** Swarm's progress word ("accepted", "preparing", "prepared", "starting", "started", "finished", "shutdown"). */
  readonly message: string;
  /** Why a task was REJECTED or FAILED, in Docker's words. */
  readonly err?: string;
  readonly containerId?: string;
  readonly exitCode?: number;
  readonly portStatus?: readonly PublishedPort[];
  /** ISO 8601, when the agent saw the change. */
  readonly timestamp: string;
}

export type HealthVerdict = 'healthy' | 'unhealthy';

/** What the engine says about a task's container. */
export interface ContainerState {
  readonly id: string;
  readonly name: string;
  readonly taskId: string;
  readonly status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  readonly exitCode: number;
  /** ISO 8601; Docker's zero time ("0001-01-01T00:00:00Z") when never started. */
  readonly startedAt: string;
  readonly pid: number;
  /** Present when the container has a healthcheck. */
  readonly health?: 'starting' | 'healthy' | 'unhealthy';
  readonly ports: readonly PublishedPort[];
  readonly labels: Readonly<Record<string, string>>;
}

/** A task's container as a listing shows it. */
export interface TaskContainerSummary {
  readonly id: string;
  readonly name: string;
  readonly taskId: string;
  readonly serviceId: string;
  readonly status: ContainerState['status'];
}

export interface PullProgress {
  readonly status: string;
  readonly layer?: string;
  readonly currentBytes?: number;
  readonly totalBytes?: number;
}

export interface LogOptions {
  readonly follow?: boolean;
  /** The last N lines; all when absent. */
  readonly tail?: number;
  /** Unix seconds. */
  readonly sinceSeconds?: number;
  readonly timestamps?: boolean;
  readonly signal?: AbortSignal;
}

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  /** One line without its newline; with `timestamps`, Docker's RFC 3339 time is in `timestamp`. */
  readonly text: string;
  readonly timestamp?: string;
}

/** Thrown by an executor when the engine refuses; `message` is the engine's own text. */
export class ExecutorError extends Error {
  override readonly name = 'ExecutorError';
  constructor(message: string, readonly kind: 'not-found' | 'conflict' | 'not-modified' | 'engine' = 'engine') {
    super(message);
  }
}

/**
 * One task's container on one runtime (swarmkit's Controller). Every method is idempotent enough
 * to be called again after an agent restart: create finds the existing container, shutdown and
 * remove accept a container that is already stopped or gone.
 */
export interface TaskController {
  readonly task: AgentTask;
  /** The container's name, as Swarm names it. */
  readonly containerName: string;
  imagePresent(): Promise<boolean>;
  /** Pulls the image; rejects with the registry's text when it can't. */
  pull(onProgress: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void>;
  /** Creates the container (or finds the one already created for this task) and returns its ID. */
  create(): Promise<string>;
  start(): Promise<void>;
  /** undefined when the task has no container. */
  inspect(): Promise<ContainerState | undefined>;
  /** Resolves with the exit code once the container is no longer running. */
  wait(signal: AbortSignal): Promise<number>;
  /** Resolves once the container's health is one of `until`; never for a container without a healthcheck. */
  health(signal: AbortSignal, until: readonly HealthVerdict[]): Promise<HealthVerdict>;
  /** Stop signal, then SIGKILL after the grace period. */
  shutdown(): Promise<void>;
  remove(): Promise<void>;
  logs(options: LogOptions): AsyncIterable<LogLine>;
}

/** A runtime that can run tasks (Docker Engine through dockerode is one). */
export interface Executor {
  /** `containerId`: the container found for this task by label, to adopt instead of creating one. */
  controller(task: AgentTask, containerId?: string): TaskController;
  /** Every container this runtime has for Skep tasks, running or not, found by label. */
  listTaskContainers(): Promise<TaskContainerSummary[]>;
  /** Removes a container that belongs to no assigned task. */
  removeContainer(containerId: string): Promise<void>;
}

// Services and tasks: the domain data the control API, the store, the orchestrator, the scheduler and
// the UI share. Plain JSON-able data with Docker Swarm's words, states and defaults
// (../shared/SWARM-SERVICES.md); times are ISO-8601 strings, durations carry their unit in the name.
import { skepError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Task states

/** Swarm's task states in their order: a task's state only moves forward through this list. */
export const TASK_STATES = [
  'new',
  'pending',
  'assigned',
  'accepted',
  'preparing',
  'ready',
  'starting',
  'running',
  'complete',
  'shutdown',
  'failed',
  'rejected',
  'remove',
  'orphaned',
] as const;

export type TaskState = (typeof TASK_STATES)[number];

const STATE_RANK: Readonly<Record<TaskState, number>> = Object.fromEntries(TASK_STATES.map((s, i) => [s, i])) as Record<TaskState, number>;

/** The state's position in Swarm's order; compare ranks, never names. */
export function taskStateRank(state: TaskState): number {
  return STATE_RANK[state];
}

/** a < b in Swarm's order (negative), equal (0) or after (positive). */
export function compareTaskStates(a: TaskState, b: TaskState): number {
  return STATE_RANK[a] - STATE_RANK[b];
}

/** Whether a task in `from` may be recorded as `to`: never backwards (a repeat of the same state may carry a new message). */
export function canAdvanceTaskState(from: TaskState, to: TaskState): boolean {
  return STATE_RANK[to] >= STATE_RANK[from];
}

/** True once the task can no longer run: its observed state is past RUNNING. */
export function isTaskTerminal(state: TaskState): boolean {
  return STATE_RANK[state] > STATE_RANK.running;
}

// ---------------------------------------------------------------------------------------------
// The service spec

export type RestartCondition = 'none' | 'on-failure' | 'any';
export type FailureAction = 'pause' | 'continue' | 'rollback';
export type UpdateOrder = 'stop-first' | 'start-first';
export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export type ServiceMode = { readonly kind: 'replicated'; readonly replicas: number } | { readonly kind: 'global' };

export interface Mount {
  readonly type: 'bind' | 'volume';
  /** Host path (bind) or volume name (volume; empty for an anonymous volume). */
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/** Docker's HEALTHCHECK: test is ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]. 0 means the engine's default. */
export interface HealthConfig {
  readonly test: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly startPeriodMs: number;
  readonly retries: number;
}

export interface ContainerSpec {
  readonly image: string;
  /** Replaces the image's ENTRYPOINT when not empty. */
  readonly command: readonly string[];
  /** Replaces the image's CMD when not empty. */
  readonly args: readonly string[];
  /** KEY=VALUE entries. */
  readonly env: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly mounts: readonly Mount[];
  readonly healthcheck?: HealthConfig;
  readonly stopGracePeriodMs: number;
  readonly hostname: string;
}

/** 0 means "not set". */
export interface Resources {
  readonly nanoCpus: number;
  readonly memoryBytes: number;
}

export interface RestartPolicy {
  readonly condition: RestartCondition;
  readonly delayMs: number;
  /** 0: unlimited. */
  readonly maxAttempts: number;
  /** 0: count every restart since the spec changed. */
  readonly windowMs: number;
}

export interface PlacementPreference {
  /** `node.labels.<key>` or `engine.labels.<key>`. */
  readonly spread: string;
}

export interface Platform {
  readonly os: string;
  readonly architecture: string;
}

export interface Placement {
  /** `key==value` / `key!=value` (node.id, node.hostname, node.ip, node.role, node.platform.os, node.platform.arch, node.labels.*, engine.labels.*). */
  readonly constraints: readonly string[];
  readonly preferences: readonly PlacementPreference[];
  /** 0: no limit (`--replicas-max-per-node`). */
  readonly maxReplicas: number;
  /** Platforms the image supports; empty: any. */
  readonly platforms: readonly Platform[];
}

export interface TaskSpec {
  readonly container: ContainerSpec;
  readonly resources: { readonly limits: Resources; readonly reservations: Resources };
  readonly restartPolicy: RestartPolicy;
  readonly placement: Placement;
}

export interface UpdateConfig {
  /** Tasks updated at once; 0 = all. */
  readonly parallelism: number;
  readonly delayMs: number;
  readonly failureAction: FailureAction;
  readonly monitorMs: number;
  readonly maxFailureRatio: number;
  readonly order: UpdateOrder;
}

/** Skep publishes ports in host mode only: each task binds the port on its own node. */
export interface PortConfig {
  readonly protocol: PortProtocol;
  readonly targetPort: number;
  /** 0: the engine picks a free port. */
  readonly publishedPort: number;
  readonly publishMode: 'host';
}

export interface EndpointSpec {
  readonly ports: readonly PortConfig[];
}

export interface ServiceSpec {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly mode: ServiceMode;
  readonly taskTemplate: TaskSpec;
  readonly updateConfig: UpdateConfig;
  readonly rollbackConfig: UpdateConfig;
  readonly endpointSpec: EndpointSpec;
}

// ---------------------------------------------------------------------------------------------
// Services and tasks as the store keeps them

export type UpdateState = 'updating' | 'paused' | 'completed' | 'rollback_started' | 'rollback_paused' | 'rollback_completed';

export interface UpdateStatus {
  readonly state: UpdateState;
  readonly message: string;
  readonly startedAt: string;
  readonly completedAt?: string;
}

export interface Service {
  readonly id: string;
  /** The store's version of the last write (Raft index). */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly spec: ServiceSpec;
  /** The store's version of the write that last changed `spec`; tasks copy it. */
  readonly specVersion: number;
  /** What `service rollback` puts back. */
  readonly previousSpec?: ServiceSpec;
  readonly previousSpecVersion?: number;
  /** Absent until a rolling update starts. */
  readonly updateStatus?: UpdateStatus;
}

export interface ContainerStatus {
  readonly containerId: string;
  readonly pid: number;
  readonly exitCode: number;
}

export interface TaskStatus {
  readonly state: TaskState;
  readonly timestamp: string;
  readonly message: string;
  /** Why the task failed or can't be scheduled; empty when nothing went wrong. */
  readonly err: string;
  readonly containerStatus?: ContainerStatus;
  /** Ports as bound on the node. */
  readonly portStatus?: readonly PortConfig[];
  /** When the task first reported RUNNING; kept by advanceTaskStatus so the rolling update can time its monitor period. */
  readonly startedAt?: string;
}

/**
 * A replacement created with desiredState READY: the orchestrator moves it to RUNNING once
 * `notBefore` has passed (the restart delay) and the task it replaces has stopped, its node is
 * down, or a minute has passed. Swarm keeps this in the leader's memory; in the store it survives
 * a leader change.
 */
export interface DelayedStart {
  readonly notBefore: string;
  readonly replaces?: string;
}

export interface Task {
  readonly id: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly serviceId: string;
  /** The service's name when the task was made; containers are named `<serviceName>.<slot>.<taskId>`. */
  readonly serviceName: string;
  /** Replicated services: 1..N. Global services: 0 (the node is the slot). */
  readonly slot: number;
  /** '' until the scheduler assigns it (global tasks are created with their node). */
  readonly nodeId: string;
  /** A copy of the service's task template when the task was made. */
  readonly spec: TaskSpec;
  readonly specVersion: number;
  readonly endpoint: EndpointSpec;
  /** Written only by managers. */
  readonly desiredState: TaskState;
  /** Written only from what the agent reported (and by the scheduler before assignment). */
  readonly status: TaskStatus;
  /** What made the task: the service's reconciler (a missing slot or node), the restart policy, or a rolling update. */
  readonly origin: TaskOrigin;
  readonly delayedStart?: DelayedStart;
}

export type TaskOrigin = 'service' | 'restart' | 'update';

/** Docker's task name: `<service>.<slot>`, or `<service>.<node>` for a global task. */
export function taskName(task: Pick<Task, 'serviceName' | 'slot' | 'nodeId'>): string {
  return task.slot > 0 ? `${task.serviceName}.${task.slot}` : `${task.serviceName}.${task.nodeId}`;
}

/**
 * Applies a status an agent reported. Returns the updated task, or null when the report would move
 * the state backwards (a stale or replayed report), which the store ignores.
 */
export function advanceTaskStatus(task: Task, status: TaskStatus): Task | null {
  if (!canAdvanceTaskState(task.status.state, status.state)) return null;
  const startedAt = task.status.startedAt ?? (status.state === 'running' ? status.timestamp : undefined);
  const next: TaskStatus = startedAt === undefined ? { ...status } : { ...status, startedAt };
  return { ...task, status: next };
}

// ---------------------------------------------------------------------------------------------
// Spec changes as the control API makes them (swarmkit controlapi UpdateService)

/**
 * `service update`: the new spec replaces the old one, which becomes the spec a rollback restores;
 * the update status is cleared so the orchestrator starts a rolling update. A change of mode or name
 * is refused, as in Swarm.
 */
export function updateServiceSpec(service: Service, spec: ServiceSpec, version: number, at: string): Service {
  if (spec.mode.kind !== service.spec.mode.kind) throw skepError('SERVICE_MODE_CHANGE');
  if (spec.name !== service.spec.name) throw skepError('SERVICE_RENAME');
  return { id: service.id, version, createdAt: service.createdAt, updatedAt: at, spec, specVersion: version, previousSpec: service.spec, previousSpecVersion: service.specVersion };
}

/** `service rollback`: the previous spec comes back and the orchestrator rolls the tasks back to it. */
export function rollbackServiceSpec(service: Service, version: number, at: string): Service {
  if (service.previousSpec === undefined) throw skepError('SERVICE_NO_PREVIOUS_SPEC', service.id);
  return {
    ...service,
    version,
    updatedAt: at,
    spec: service.previousSpec,
    specVersion: service.previousSpecVersion ?? version,
    previousSpec: service.spec,
    previousSpecVersion: service.specVersion,
    updateStatus: { state: 'rollback_started', message: 'manually requested rollback', startedAt: at },
  };
}

// ---------------------------------------------------------------------------------------------
// Swarm's defaults (api/defaults/service.go and the CLI's)

export const DEFAULT_RESTART_POLICY: RestartPolicy = { condition: 'any', delayMs: 5_000, maxAttempts: 0, windowMs: 0 };

export const DEFAULT_UPDATE_CONFIG: UpdateConfig = {
  parallelism: 1,
  delayMs: 0,
  failureAction: 'pause',
  monitorMs: 5_000,
  maxFailureRatio: 0,
  order: 'stop-first',
};

export const DEFAULT_ROLLBACK_CONFIG: UpdateConfig = DEFAULT_UPDATE_CONFIG;

export const DEFAULT_STOP_GRACE_PERIOD_MS = 10_000;

/** Tasks kept per slot (replicated) or per node (global): Swarm's TaskHistoryRetentionLimit. */
export const TASK_HISTORY_RETENTION_LIMIT = 5;

/** The smallest reservation or limit the control API accepts (Swarm's). */
export const MIN_NANO_CPUS = 1e6;
export const MIN_MEMORY_BYTES = 4 * 1024 * 1024;

export const NO_RESOURCES: Resources = { nanoCpus: 0, memoryBytes: 0 };

export const EMPTY_PLACEMENT: Placement = { constraints: [], preferences: [], maxReplicas: 0, platforms: [] };

// ---------------------------------------------------------------------------------------------
// What the control API answers

/** A row of `service ls`: the service and its tasks running / wanted. */
export interface ServiceListEntry {
  readonly service: Service;
  /** Tasks with desired state RUNNING that run. */
  readonly running: number;
  /** Replicas (replicated) or eligible nodes' tasks (global). */
  readonly desired: number;
}

/** `service ps` / `node ps` filters; every given one must match. */
export interface TaskFilter {
  /** Service IDs, ID prefixes or names. */
  readonly services?: readonly string[];
  /** Node IDs, ID prefixes or hostnames. */
  readonly nodes?: readonly string[];
  readonly desiredState?: 'running' | 'shutdown' | 'accepted';
}

/** One line of `service logs`, with what Docker's prefix needs. */
export interface ServiceLogLine {
  readonly taskId: string;
  readonly serviceName: string;
  readonly slot: number;
  readonly nodeId: string;
  readonly hostname: string;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** RFC 3339 with nanoseconds, as Docker's engine gives it. */
  readonly timestamp?: string;
}

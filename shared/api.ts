// The one contract between the UI and the node. Both transports (Electron IPC, WebSocket) and the
// client the renderer uses are derived from the types and lists in this file, so they can't drift.
import type { ErrorEnvelope } from './errors.js';
import type { HostKeyReport, MachineAddResult, MachineCheckResult, MachineRecord, MachineRemoveResult, MachineRequest, MachineTarget, ProvisionProgress } from './provision.js';
import type { ServiceSpecRequest } from './service-schema.js';
import type { Service, ServiceListEntry, ServiceLogLine, Task, TaskFilter } from './services.js';
import type {
  InitRequest,
  InitResult,
  JoinRequest,
  JoinResult,
  JoinTokenResult,
  NodeRole,
  NodeUpdate,
  SwarmNode,
  SwarmStatus,
  SwarmUpdate,
  SystemInfo,
  UnlockKeyResult,
  UnlockRequest,
} from './types.js';
import type { UpdateNotice } from './update-notice.js';

/** Everything the UI can ask. Every method resolves with plain data or rejects with a SkepError. */
export interface SkepApi {
  getSystemInfo(): Promise<SystemInfo>;
  getSwarmStatus(): Promise<SwarmStatus>;

  // `skep swarm …`
  swarmInit(request: InitRequest): Promise<InitResult>;
  swarmJoin(request: JoinRequest): Promise<JoinResult>;
  swarmLeave(force: boolean): Promise<void>;
  /** Shows the join token for a role; `rotate` replaces its secret first (the old one stops working). */
  swarmJoinToken(role: NodeRole, rotate: boolean): Promise<JoinTokenResult>;
  /** `swarm update`: today only autolock (on: a new unlock key, and each manager's data key rotates). */
  swarmUpdate(update: SwarmUpdate): Promise<void>;
  /**
   * Unlocks this locked manager with its unlock key (SKEPKEY-1-…); the key never travels in argv.
   * `remember`: the desktop app keeps it in the OS keychain and unlocks by itself at the next start.
   */
  swarmUnlock(request: UnlockRequest): Promise<void>;
  /** The swarm's unlock key (null with autolock off); `rotate` replaces it first. */
  swarmUnlockKey(rotate: boolean): Promise<UnlockKeyResult>;

  // `skep node …` — a node is named by ID, unique ID prefix or hostname.
  nodeList(): Promise<SwarmNode[]>;
  nodeInspect(node: string): Promise<SwarmNode>;
  nodePromote(node: string): Promise<void>;
  nodeDemote(node: string): Promise<void>;
  nodeRemove(node: string, force: boolean): Promise<void>;
  nodeUpdate(node: string, update: NodeUpdate): Promise<void>;

  // `skep machine …` — adding machines over SSH (progress arrives as 'provision.progress' events).
  /** Connects only far enough to see the host key, and says whether it is pinned. */
  machineHostKey(target: MachineTarget): Promise<HostKeyReport>;
  /** Facts and plan, read-only. */
  machineCheck(request: MachineRequest): Promise<MachineCheckResult>;
  machineAdd(request: MachineRequest): Promise<MachineAddResult>;
  machineList(): Promise<MachineRecord[]>;
  /** Leaves the swarm, removes the agent and its files; names the machine by host (as `machine ls`). */
  machineRemove(request: MachineRequest): Promise<MachineRemoveResult>;
  // `skep service …` — a service is named by ID, unique ID prefix or name.
  serviceCreate(spec: ServiceSpecRequest): Promise<{ id: string }>;
  serviceList(): Promise<ServiceListEntry[]>;
  serviceInspect(service: string): Promise<Service>;
  /** A whole new spec (the CLI reads the current one and changes what its flags say); `rollback` puts the previous spec back. */
  serviceUpdate(service: string, spec: ServiceSpecRequest, options: { rollback?: boolean }): Promise<void>;
  serviceScale(service: string, replicas: number): Promise<void>;
  /** Resolves with the removed service's ID. */
  serviceRemove(service: string): Promise<string>;
  /** `service ps` / `node ps`. */
  taskList(filter: TaskFilter): Promise<Task[]>;
  /** `service logs` (without --follow): every task's lines, read on its node, in time order. */
  serviceLogs(service: string, options: { tail?: number; sinceSeconds?: number }): Promise<ServiceLogLine[]>;
}

export type MethodName = keyof SkepApi;
export type MethodParams<M extends MethodName> = Parameters<SkepApi[M]>;
export type MethodResult<M extends MethodName> = Awaited<ReturnType<SkepApi[M]>>;

/**
 * Every method by name, for the transports to build and check calls. `satisfies` plus the
 * exhaustiveness check below make a method missing from this list a compile error.
 */
export const METHOD_NAMES = [
  'getSystemInfo',
  'getSwarmStatus',
  'swarmInit',
  'swarmJoin',
  'swarmLeave',
  'swarmJoinToken',
  'swarmUpdate',
  'swarmUnlock',
  'swarmUnlockKey',
  'nodeList',
  'nodeInspect',
  'nodePromote',
  'nodeDemote',
  'nodeRemove',
  'nodeUpdate',
  'machineHostKey',
  'machineCheck',
  'machineAdd',
  'machineList',
  'machineRemove',
  'serviceCreate',
  'serviceList',
  'serviceInspect',
  'serviceUpdate',
  'serviceScale',
  'serviceRemove',
  'taskList',
  'serviceLogs',
] as const satisfies readonly MethodName[];

type Missing = Exclude<MethodName, (typeof METHOD_NAMES)[number]>;
const everyMethodListed: [Missing] extends [never] ? true : Missing = true;
void everyMethodListed;

export function isMethodName(value: unknown): value is MethodName {
  return typeof value === 'string' && (METHOD_NAMES as readonly string[]).includes(value);
}

/**
 * Calls whose answer comes in parts until it ends or the caller goes away. Only the control socket
 * carries them (chunk frames of shared/wire.ts); the call is ended when its connection closes.
 */
export interface SkepStreams {
  /** `service logs --follow`: lines as the tasks write them, new tasks included, until the service is removed. */
  followServiceLogs(service: string, options: { tail?: number; sinceSeconds?: number }, onLines: (lines: ServiceLogLine[]) => void, signal: AbortSignal): Promise<void>;
}

export type StreamMethodName = keyof SkepStreams;

export function isStreamMethodName(value: unknown): value is StreamMethodName {
  return value === 'followServiceLogs';
}

/** What the node pushes without being asked. */
export interface SkepEvents {
  'system.info': SystemInfo;
  'swarm.status': SwarmStatus;
  /** The desktop app's updater found a newer Skep (sent by electron/main, not by the node). */
  'app.update': UpdateNotice;
  'provision.progress': ProvisionProgress;
}

export type SkepEvent = { [K in keyof SkepEvents]: { readonly type: K; readonly payload: SkepEvents[K] } }[keyof SkepEvents];

export type EventListener = (event: SkepEvent) => void;

/** The implementation side: the API plus a way to hear its events. */
export interface SkepService extends SkepApi {
  subscribe(listener: EventListener): () => void;
}

/** What the renderer holds. It never knows which transport is behind it. */
export interface SkepClient extends SkepApi {
  onEvent(listener: EventListener): () => void;
}

/** How one call's outcome crosses a boundary. Thrown errors don't survive IPC, so they travel as data. */
export type Reply<T = unknown> = { readonly ok: true; readonly result: T } | { readonly ok: false; readonly error: ErrorEnvelope };

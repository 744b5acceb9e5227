// The replicated swarm state and the commands that change it. Every manager applies the same
// committed commands in the same order, so apply() is deterministic: no clock (timestamps come
// inside commands, from the proposer), no randomness, no I/O.
import { advanceTaskStatus, type Service, type ServiceSpec, type Task, type TaskState, type TaskStatus, type UpdateStatus } from '../../../shared/services.js';
import type { NodeAvailability, NodeDescription, NodeRole, NodeState } from '../../../shared/types.js';

export interface ClusterRecord {
  readonly id: string;
  readonly createdAt: string;
  /** The root CA. Its key lives in the replicated store so any new leader can sign certificates. */
  readonly ca: { readonly certPem: string; readonly keyPem: string };
  readonly tokenSecrets: { readonly worker: string; readonly manager: string };
  /**
   * Autolock's unlock key (base64 of 32 bytes), present while autolock is on: replicated so every
   * manager wraps its own data key and TLS key with it, and new managers never need unlocking to join.
   */
  readonly unlockKey?: string;
}

export interface NodeRecord {
  readonly id: string;
  /** The Raft index of the last write to this node (Docker's Version.Index). */
  readonly version?: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly spec: { readonly role: NodeRole; readonly availability: NodeAvailability; readonly labels: Readonly<Record<string, string>> };
  /** The role the node has now; it follows spec.role once Raft membership has changed. */
  readonly role: NodeRole;
  readonly description: NodeDescription;
  readonly status: { readonly state: NodeState; readonly addr: string; readonly message: string };
  /** host:port of its cluster listener, where managers and agents reach it. */
  readonly clusterAddr: string;
  readonly certNotAfter: string;
}

export interface SwarmState {
  readonly cluster: ClusterRecord | null;
  readonly nodes: Readonly<Record<string, NodeRecord>>;
  /** Node IDs whose certificates are refused from now on. */
  readonly removed: readonly string[];
  /** Services by ID; absent in snapshots written before services existed (read as empty). */
  readonly services?: Readonly<Record<string, Service>>;
  /** Tasks by ID; absent in snapshots written before services existed (read as empty). */
  readonly tasks?: Readonly<Record<string, Task>>;
}

/**
 * One change of a task or service inside a `tasks.batch` entry: the orchestrator's changes plus the
 * scheduler's placements, so a whole leader pass is one Raft entry. A task's `status` is written
 * here only before an agent has it (the scheduler's PENDING/ASSIGNED, the constraint enforcer's
 * REJECTED); agents' reports come through `task.status`.
 */
export type TaskBatchChange =
  | { readonly op: 'task.create'; readonly task: Task }
  | { readonly op: 'task.desiredState'; readonly taskId: string; readonly desiredState: TaskState }
  | { readonly op: 'task.status'; readonly taskId: string; readonly status: TaskStatus }
  | { readonly op: 'task.assign'; readonly taskId: string; readonly nodeId: string; readonly status: TaskStatus }
  | { readonly op: 'task.delete'; readonly taskId: string }
  | { readonly op: 'service.updateStatus'; readonly serviceId: string; readonly updateStatus: UpdateStatus }
  | { readonly op: 'service.rollback'; readonly serviceId: string; readonly spec: ServiceSpec; readonly specVersion: number; readonly updateStatus: UpdateStatus };

/** What a node's agent reported about one of its own tasks. */
export interface TaskStatusEntry {
  readonly taskId: string;
  readonly status: TaskStatus;
}

export type Command =
  | { readonly op: 'cluster.create'; readonly cluster: ClusterRecord; readonly node: NodeRecord }
  | { readonly op: 'node.register'; readonly node: NodeRecord }
  | { readonly op: 'node.spec'; readonly id: string; readonly at: string; readonly role?: NodeRole; readonly availability?: NodeAvailability; readonly labelAdd?: Readonly<Record<string, string>>; readonly labelRm?: readonly string[] }
  | { readonly op: 'node.role'; readonly id: string; readonly at: string; readonly role: NodeRole }
  | { readonly op: 'node.status'; readonly id: string; readonly at: string; readonly state: NodeState; readonly message: string; readonly addr?: string; readonly description?: NodeDescription; readonly certNotAfter?: string }
  | { readonly op: 'node.remove'; readonly id: string }
  | { readonly op: 'tokens.rotate'; readonly role: NodeRole; readonly secret: string }
  /** Autolock on (a new unlock key, also a rotation) or off (null). The key travels in the command. */
  | { readonly op: 'cluster.autolock'; readonly unlockKey: string | null }
  /** Drops every node but the survivor from the manager set (force-new-cluster). */
  | { readonly op: 'cluster.forceNew'; readonly survivor: string; readonly at: string }
  /** A new service; its ID and name were checked by the control API and are checked again here. */
  | { readonly op: 'service.create'; readonly service: Omit<Service, 'version' | 'specVersion'> }
  /** A new spec (update, scale, manual rollback): the old one is kept for `service rollback`. */
  | { readonly op: 'service.update'; readonly id: string; readonly at: string; readonly spec: ServiceSpec; readonly rollback?: boolean; readonly updateStatus?: UpdateStatus }
  | { readonly op: 'service.remove'; readonly id: string }
  /** One leader pass: orchestrator and scheduler changes, applied in order. */
  | { readonly op: 'tasks.batch'; readonly at: string; readonly changes: readonly TaskBatchChange[] }
  /** Status reports from the agent of `nodeId`, for its own tasks only; states only move forward. */
  | { readonly op: 'task.status'; readonly nodeId: string; readonly reports: readonly TaskStatusEntry[] };

export type ApplyResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const OK: ApplyResult = { ok: true };

export const EMPTY_STATE: SwarmState = { cluster: null, nodes: {}, removed: [], services: {}, tasks: {} };

/** The services table (empty for a state restored from an old snapshot). */
export function servicesOf(state: SwarmState): Readonly<Record<string, Service>> {
  return state.services ?? {};
}

/** The tasks table (empty for a state restored from an old snapshot). */
export function tasksOf(state: SwarmState): Readonly<Record<string, Task>> {
  return state.tasks ?? {};
}

export function encodeCommand(command: Command): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(command));
}

export function decodeCommand(data: Uint8Array): Command {
  return JSON.parse(new TextDecoder().decode(data)) as Command;
}

/** One applied change, as the change feed delivers it. `command` is absent after a snapshot restore. */
export interface StoreChange {
  readonly index: number;
  readonly state: SwarmState;
  readonly previous: SwarmState;
  readonly command?: Command;
}

/** The task IDs a command can touch; undefined: any (the index is rebuilt). */
function touchedTaskIds(command: Command): readonly string[] | undefined {
  switch (command.op) {
    case 'tasks.batch':
      return command.changes.flatMap((c) => (c.op === 'task.create' ? [c.task.id] : 'taskId' in c ? [c.taskId] : []));
    case 'task.status':
      return command.reports.map((r) => r.taskId);
    case 'cluster.create':
      return undefined;
    default:
      return [];
  }
}

/**
 * Tasks by service and by node, kept beside the state as commands apply (swarmkit's store indexes),
 * so "this node's tasks" and "this service's tasks" cost what they return, not a scan of every task.
 */
export class TaskIndex {
  private readonly byService = new Map<string, Set<string>>();
  private readonly byNode = new Map<string, Set<string>>();

  rebuild(state: SwarmState): void {
    this.byService.clear();
    this.byNode.clear();
    for (const task of Object.values(tasksOf(state))) this.add(task);
  }

  update(previous: SwarmState, next: SwarmState, ids: readonly string[]): void {
    const before = tasksOf(previous);
    const after = tasksOf(next);
    for (const id of ids) {
      const old = before[id];
      const now = after[id];
      if (old === now) continue;
      if (old && (!now || old.nodeId !== now.nodeId)) this.byNode.get(old.nodeId)?.delete(id);
      if (old && !now) this.byService.get(old.serviceId)?.delete(id);
      if (now) this.add(now);
    }
  }

  serviceTaskIds(serviceId: string): ReadonlySet<string> {
    return this.byService.get(serviceId) ?? new Set();
  }

  nodeTaskIds(nodeId: string): ReadonlySet<string> {
    return this.byNode.get(nodeId) ?? new Set();
  }

  private add(task: Task): void {
    const service = this.byService.get(task.serviceId) ?? new Set<string>();
    service.add(task.id);
    this.byService.set(task.serviceId, service);
    const node = this.byNode.get(task.nodeId) ?? new Set<string>();
    node.add(task.id);
    this.byNode.set(task.nodeId, node);
  }
}

/**
 * The state machine. Holds the state; `apply` returns a new state object each time, and every
 * applied change goes to the change feed (`watch`), so components react to writes instead of polling.
 */
export class SwarmStore {
  private current: SwarmState = EMPTY_STATE;
  private readonly watchers = new Set<(change: StoreChange) => void>();
  private readonly index = new TaskIndex();

  get state(): SwarmState {
    return this.current;
  }

  /** A service's tasks, from the index (no scan). */
  tasksOfService(serviceId: string): Task[] {
    return this.lookup(this.index.serviceTaskIds(serviceId));
  }

  /** The tasks placed on a node, from the index (no scan); '' is the unassigned ones. */
  tasksOfNode(nodeId: string): Task[] {
    return this.lookup(this.index.nodeTaskIds(nodeId));
  }

  private lookup(ids: ReadonlySet<string>): Task[] {
    const tasks = tasksOf(this.current);
    const found: Task[] = [];
    for (const id of ids) {
      const task = tasks[id];
      if (task) found.push(task);
    }
    return found;
  }

  watch(listener: (change: StoreChange) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  apply(command: Command, index = 0): ApplyResult {
    const previous = this.current;
    const { state, result } = applyCommand(previous, command, index);
    this.current = state;
    if (state !== previous) {
      const touched = touchedTaskIds(command);
      if (touched === undefined) this.index.rebuild(state);
      else this.index.update(previous, state, touched);
    }
    if (result.ok) this.publish({ index, state, previous, command });
    return result;
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.current));
  }

  restore(data: Uint8Array, index = 0): void {
    const previous = this.current;
    this.current = data.length === 0 ? EMPTY_STATE : { services: {}, tasks: {}, ...(JSON.parse(new TextDecoder().decode(data)) as SwarmState) };
    this.index.rebuild(this.current);
    this.publish({ index, state: this.current, previous });
  }

  private publish(change: StoreChange): void {
    for (const watcher of this.watchers) {
      try {
        watcher(change);
      } catch {
        // A watcher's failure is its own; the state machine must go on applying.
      }
    }
  }
}

export function applyCommand(state: SwarmState, command: Command, index = 0): { state: SwarmState; result: ApplyResult } {
  const withNode = (s: SwarmState, node: NodeRecord): SwarmState => ({ ...s, nodes: { ...s.nodes, [node.id]: { ...node, version: index } } });
  const fail = (reason: string): { state: SwarmState; result: ApplyResult } => ({ state, result: { ok: false, reason } });
  switch (command.op) {
    case 'cluster.create':
      if (state.cluster) return fail('the swarm already exists');
      return { state: { cluster: command.cluster, nodes: { [command.node.id]: { ...command.node, version: index } }, removed: [], services: {}, tasks: {} }, result: OK };
    case 'node.register': {
      if (state.removed.includes(command.node.id)) return fail(`node ${command.node.id} was removed from the swarm`);
      const existing = state.nodes[command.node.id];
      // A re-join with the same ID (a retried join) keeps what the swarm already decided.
      const node = existing ? { ...command.node, spec: existing.spec, role: existing.role, createdAt: existing.createdAt } : command.node;
      return { state: withNode(state, node), result: OK };
    }
    case 'node.spec': {
      const node = state.nodes[command.id];
      if (!node) return fail(`node ${command.id} not found`);
      const labels = { ...node.spec.labels, ...(command.labelAdd ?? {}) };
      for (const key of command.labelRm ?? []) delete labels[key];
      const spec = { role: command.role ?? node.spec.role, availability: command.availability ?? node.spec.availability, labels };
      return { state: withNode(state, { ...node, spec, updatedAt: command.at }), result: OK };
    }
    case 'node.role': {
      const node = state.nodes[command.id];
      if (!node) return fail(`node ${command.id} not found`);
      return { state: withNode(state, { ...node, role: command.role, updatedAt: command.at }), result: OK };
    }
    case 'node.status': {
      const node = state.nodes[command.id];
      if (!node) return fail(`node ${command.id} not found`);
      const updated: NodeRecord = {
        ...node,
        status: { state: command.state, message: command.message, addr: command.addr ?? node.status.addr },
        description: command.description ?? node.description,
        certNotAfter: command.certNotAfter ?? node.certNotAfter,
        updatedAt: command.at,
      };
      return { state: withNode(state, updated), result: OK };
    }
    case 'node.remove': {
      if (!state.nodes[command.id]) return fail(`node ${command.id} not found`);
      const nodes = { ...state.nodes };
      delete nodes[command.id];
      return { state: { ...state, nodes, removed: [...state.removed, command.id] }, result: OK };
    }
    case 'tokens.rotate': {
      if (!state.cluster) return fail('no swarm');
      const tokenSecrets = { ...state.cluster.tokenSecrets, [command.role]: command.secret };
      return { state: { ...state, cluster: { ...state.cluster, tokenSecrets } }, result: OK };
    }
    case 'cluster.autolock': {
      if (!state.cluster) return fail('no swarm');
      const { unlockKey: _previous, ...rest } = state.cluster;
      const cluster: ClusterRecord = command.unlockKey === null ? rest : { ...rest, unlockKey: command.unlockKey };
      return { state: { ...state, cluster }, result: OK };
    }
    case 'cluster.forceNew': {
      const nodes: Record<string, NodeRecord> = {};
      for (const node of Object.values(state.nodes)) {
        const keepsManager = node.id === command.survivor;
        // The managers left behind were lost (that is why this runs): Down until they heartbeat again.
        nodes[node.id] = node.role === 'manager' && !keepsManager
          ? {
              ...node,
              role: 'worker',
              spec: { ...node.spec, role: 'worker' },
              status: { ...node.status, state: 'down', message: 'left behind by --force-new-cluster' },
              updatedAt: command.at,
              version: index,
            }
          : node;
      }
      return { state: { ...state, nodes }, result: OK };
    }
    case 'service.create': {
      const services = servicesOf(state);
      if (services[command.service.id]) return fail(`service ${command.service.id} already exists`);
      if (Object.values(services).some((s) => s.spec.name === command.service.spec.name)) return fail(`service ${command.service.spec.name} already exists`);
      const service: Service = { ...command.service, version: index, specVersion: index };
      return { state: { ...state, services: { ...services, [service.id]: service } }, result: OK };
    }
    case 'service.update': {
      const services = servicesOf(state);
      const existing = services[command.id];
      if (!existing) return fail(`service ${command.id} not found`);
      if (Object.values(services).some((s) => s.id !== command.id && s.spec.name === command.spec.name)) return fail(`service ${command.spec.name} already exists`);
      // A rollback swaps the specs back and keeps the version the old tasks carry, so they count as up to date.
      const specVersion = command.rollback ? (existing.previousSpecVersion ?? index) : index;
      const service: Service = {
        ...existing,
        version: index,
        updatedAt: command.at,
        spec: command.spec,
        specVersion,
        previousSpec: existing.spec,
        previousSpecVersion: existing.specVersion,
        ...(command.updateStatus ? { updateStatus: command.updateStatus } : { updateStatus: undefined }),
      };
      return { state: { ...state, services: { ...services, [service.id]: service } }, result: OK };
    }
    case 'service.remove': {
      const services = { ...servicesOf(state) };
      if (!services[command.id]) return fail(`service ${command.id} not found`);
      delete services[command.id];
      return { state: { ...state, services }, result: OK };
    }
    case 'tasks.batch':
      return { state: applyBatch(state, command.at, command.changes, index), result: OK };
    case 'task.status': {
      const tasks = { ...tasksOf(state) };
      let changed = false;
      for (const report of command.reports) {
        const task = tasks[report.taskId];
        // Only the node a task is assigned to speaks for it; stale or replayed reports never move it back.
        if (!task || task.nodeId !== command.nodeId) continue;
        const advanced = advanceTaskStatus(task, report.status);
        if (!advanced) continue;
        tasks[task.id] = { ...advanced, version: index, updatedAt: report.status.timestamp };
        changed = true;
      }
      return { state: changed ? { ...state, tasks } : state, result: OK };
    }
  }
}

/**
 * Applies one leader pass. A change for a task or service that no longer exists (deleted by an
 * entry committed in between) is skipped: the next pass decides again from what is there.
 */
function applyBatch(state: SwarmState, at: string, changes: readonly TaskBatchChange[], index: number): SwarmState {
  const tasks: Record<string, Task> = { ...tasksOf(state) };
  const services: Record<string, Service> = { ...servicesOf(state) };
  const touch = (task: Task, change: Partial<Task>): void => {
    tasks[task.id] = { ...task, ...change, version: index, updatedAt: at };
  };
  for (const change of changes) {
    switch (change.op) {
      case 'task.create':
        if (!tasks[change.task.id]) tasks[change.task.id] = { ...change.task, version: index, createdAt: at, updatedAt: at };
        break;
      case 'task.desiredState': {
        const task = tasks[change.taskId];
        if (task) touch(task, { desiredState: change.desiredState });
        break;
      }
      case 'task.status': {
        const task = tasks[change.taskId];
        if (task) touch(task, { status: change.status });
        break;
      }
      case 'task.assign': {
        const task = tasks[change.taskId];
        // Only a task no agent has yet may be placed; a task already on a node stays there.
        if (task && (task.nodeId === '' || change.nodeId === '' || task.nodeId === change.nodeId) && !isAgentState(task.status.state)) {
          touch(task, { nodeId: change.nodeId || task.nodeId, status: change.status });
        }
        break;
      }
      case 'task.delete':
        delete tasks[change.taskId];
        break;
      case 'service.updateStatus': {
        const service = services[change.serviceId];
        if (service) services[service.id] = { ...service, updateStatus: change.updateStatus, version: index };
        break;
      }
      case 'service.rollback': {
        const service = services[change.serviceId];
        if (service) {
          services[service.id] = {
            ...service,
            spec: change.spec,
            specVersion: change.specVersion,
            previousSpec: undefined,
            previousSpecVersion: undefined,
            updateStatus: change.updateStatus,
            version: index,
            updatedAt: at,
          };
        }
        break;
      }
    }
  }
  return { ...state, tasks, services };
}

/** States only an agent reports (ACCEPTED and after): the scheduler no longer decides for such a task. */
function isAgentState(state: TaskState): boolean {
  return state !== 'new' && state !== 'pending' && state !== 'assigned';
}

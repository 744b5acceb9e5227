// The replicated swarm state and the commands that change it. Every manager applies the same
// committed commands in the same order, so apply() is deterministic: no clock (timestamps come
// inside commands, from the proposer), no randomness, no I/O.
import type { NodeAvailability, NodeDescription, NodeRole, NodeState } from '../../shared/types.js';

export interface ClusterRecord {
  readonly id: string;
  readonly createdAt: string;
  /** The root CA. Its key lives in the replicated store so any new leader can sign certificates. */
  readonly ca: { readonly certPem: string; readonly keyPem: string };
  readonly tokenSecrets: { readonly worker: string; readonly manager: string };
}

export interface NodeRecord {
  readonly id: string;
  /** Bumped by every change to the record (Docker's Version.Index); absent in stores written before it. */
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
}

export type Command =
  | { readonly op: 'cluster.create'; readonly cluster: ClusterRecord; readonly node: NodeRecord }
  | { readonly op: 'node.register'; readonly node: NodeRecord }
  | { readonly op: 'node.spec'; readonly id: string; readonly at: string; readonly role?: NodeRole; readonly availability?: NodeAvailability; readonly labelAdd?: Readonly<Record<string, string>>; readonly labelRm?: readonly string[] }
  | { readonly op: 'node.role'; readonly id: string; readonly at: string; readonly role: NodeRole }
  | { readonly op: 'node.status'; readonly id: string; readonly at: string; readonly state: NodeState; readonly message: string; readonly addr?: string; readonly description?: NodeDescription; readonly certNotAfter?: string }
  | { readonly op: 'node.remove'; readonly id: string }
  | { readonly op: 'tokens.rotate'; readonly role: NodeRole; readonly secret: string }
  /** Drops every node but the survivor from the manager set (force-new-cluster). */
  | { readonly op: 'cluster.forceNew'; readonly survivor: string; readonly at: string };

export type ApplyResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const OK: ApplyResult = { ok: true };

export const EMPTY_STATE: SwarmState = { cluster: null, nodes: {}, removed: [] };

export function encodeCommand(command: Command): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(command));
}

export function decodeCommand(data: Uint8Array): Command {
  return JSON.parse(new TextDecoder().decode(data)) as Command;
}

/** The state machine. Holds the state; `apply` returns a new state object each time. */
export class SwarmStore {
  private current: SwarmState = EMPTY_STATE;
  private readonly listeners = new Set<(state: SwarmState, command: Command) => void>();

  get state(): SwarmState {
    return this.current;
  }

  onChange(listener: (state: SwarmState, command: Command) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  apply(command: Command): ApplyResult {
    const { state, result } = applyCommand(this.current, command);
    this.current = state;
    if (result.ok) for (const listener of this.listeners) listener(state, command);
    return result;
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.current));
  }

  restore(data: Uint8Array): void {
    this.current = data.length === 0 ? EMPTY_STATE : (JSON.parse(new TextDecoder().decode(data)) as SwarmState);
  }
}

function withNode(state: SwarmState, node: NodeRecord): SwarmState {
  const version = (state.nodes[node.id]?.version ?? 0) + 1;
  return { ...state, nodes: { ...state.nodes, [node.id]: { ...node, version } } };
}

export function applyCommand(state: SwarmState, command: Command): { state: SwarmState; result: ApplyResult } {
  const fail = (reason: string): { state: SwarmState; result: ApplyResult } => ({ state, result: { ok: false, reason } });
  switch (command.op) {
    case 'cluster.create':
      if (state.cluster) return fail('the swarm already exists');
      return { state: withNode({ cluster: command.cluster, nodes: {}, removed: [] }, command.node), result: OK };
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
    case 'cluster.forceNew': {
      const nodes: Record<string, NodeRecord> = {};
      for (const node of Object.values(state.nodes)) {
        const keepsManager = node.id === command.survivor;
        // The managers left behind were lost (that is why this runs): Down until they heartbeat again.
        nodes[node.id] = node.role === 'manager' && !keepsManager
          ? {
              ...node,
              version: (node.version ?? 0) + 1,
              role: 'worker',
              spec: { ...node.spec, role: 'worker' },
              status: { ...node.status, state: 'down', message: 'left behind by --force-new-cluster' },
              updatedAt: command.at,
            }
          : node;
      }
      return { state: { ...state, nodes }, result: OK };
    }
  }
}

import type { ErrorCode } from './errors.js';
// Domain types every side shares. Plain data only: they cross IPC, WebSocket and the control socket.

export interface OperatingSystem {
  /** Node's platform name: linux, darwin, win32, … */
  readonly platform: string;
  /** A person's name for it, e.g. "Debian GNU/Linux 12 (bookworm)" or "macOS 15.1". */
  readonly name: string;
  readonly version: string;
  readonly kernel: string;
}

export type EngineStatus =
  | {
      readonly available: true;
      readonly version: string;
      readonly apiVersion: string;
      readonly os: string;
      readonly arch: string;
      readonly endpoint: string;
      /** The engine's own labels (`dockerd --label k=v`), for `engine.labels.*` constraints. */
      readonly labels?: Readonly<Record<string, string>>;
    }
  | { readonly available: false; readonly endpoint: string; readonly reason: string };

/** One address of this machine, to offer as a listen or advertise address. */
export interface NetworkAddress {
  readonly interface: string;
  readonly address: string;
  readonly family: 'IPv4' | 'IPv6';
  readonly internal: boolean;
}

export interface SystemInfo {
  readonly hostname: string;
  readonly os: OperatingSystem;
  /** Docker's spelling of the architecture: x86_64, aarch64, armv7l, … */
  readonly architecture: string;
  readonly cpuCount: number;
  readonly memoryBytes: number;
  readonly dataDir: string;
  readonly addresses: readonly NetworkAddress[];
  readonly engine: EngineStatus;
  readonly skepVersion: string;
  readonly nodeVersion: string;
}

export type NodeRole = 'manager' | 'worker';
export type NodeAvailability = 'active' | 'pause' | 'drain';
/** The STATUS column of `node ls`: Ready while heartbeats arrive, Down after three are missed. */
export type NodeState = 'ready' | 'down' | 'unknown';
export type ManagerReachability = 'reachable' | 'unreachable';

export interface NodeDescription {
  readonly hostname: string;
  readonly platform: { readonly os: string; readonly architecture: string };
  readonly resources: { readonly cpus: number; readonly memoryBytes: number };
  /** Docker Engine version, or '' when no engine answers. */
  readonly engineVersion: string;
  /** The Docker Engine's labels (`engine.labels.*` in constraints); absent when it has none or no engine answers. */
  readonly engineLabels?: Readonly<Record<string, string>>;
}

/** One machine in the swarm, as `skep node inspect` shows it. */
export interface SwarmNode {
  readonly id: string;
  /** The store's version of this node: it changes with every update (Docker's Version.Index). */
  readonly version?: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly spec: {
    /** The role the swarm wants this node to have (promote/demote change it). */
    readonly role: NodeRole;
    readonly availability: NodeAvailability;
    readonly labels: Readonly<Record<string, string>>;
  };
  /** The role it has now (a demoted manager is a manager until it leaves Raft). */
  readonly role: NodeRole;
  readonly description: NodeDescription;
  readonly status: { readonly state: NodeState; readonly addr: string; readonly message: string };
  readonly managerStatus?: {
    readonly leader: boolean;
    readonly reachability: ManagerReachability;
    /** The address other managers reach it at (the cluster port). */
    readonly addr: string;
  };
  readonly certificate?: { readonly notAfter: string };
}

/** One manager as the Raft view sees it (the ring in the UI, `skep swarm status`). */
export interface RaftMemberView {
  readonly nodeId: string;
  readonly hostname: string;
  readonly addr: string;
  readonly role: 'leader' | 'follower' | 'candidate' | 'learner' | 'unknown';
  readonly reachable: boolean;
  /** Only known on the leader: the highest log index known replicated on this member. */
  readonly matchIndex: number | null;
  /** Entries behind the leader's last index (leader's view). */
  readonly lag: number | null;
  /** Milliseconds since the leader last heard from it (leader's view). */
  readonly lastContactMs: number | null;
}

export interface RaftView {
  readonly term: number;
  readonly leaderId: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly members: readonly RaftMemberView[];
}

/** This node's manager has stopped (its storage failed) or the node was removed from the swarm. */
export interface SwarmFailure {
  readonly code: ErrorCode;
  readonly message: string;
  /** True when Skep retries by itself (a full disk); false when a person must act (the message says how). */
  readonly recovering: boolean;
}

export type SwarmStatus =
  | { readonly state: 'inactive' }
  /** A manager of an autolocked swarm that restarted: it serves nothing until `skep swarm unlock`. */
  | {
      readonly state: 'locked';
      readonly nodeId: string;
      readonly clusterId: string;
      readonly role: NodeRole;
      readonly nodeAddr: string;
    }
  | {
      readonly state: 'active';
      readonly nodeId: string;
      readonly clusterId: string;
      readonly role: NodeRole;
      /** This node's cluster address (advertise address and port). */
      readonly nodeAddr: string;
      readonly managers: number;
      readonly reachableManagers: number;
      readonly nodes: number;
      readonly readyNodes: number;
      readonly leaderId: string | null;
      /** The Raft view, present on managers. */
      readonly raft?: RaftView;
      /** Present while this node can't do its part (see SwarmFailure). */
      readonly failure?: SwarmFailure;
    };

export interface InitRequest {
  /** Where the cluster port listens, ADDR:PORT (default 0.0.0.0:2377). */
  readonly listenAddr?: string;
  /** The address other nodes use to reach this one, ADDR[:PORT]. */
  readonly advertiseAddr?: string;
  readonly forceNewCluster?: boolean;
  /** Autolock: managers need the unlock key to start after a restart. */
  readonly autolock?: boolean;
}

export interface InitResult {
  readonly nodeId: string;
  readonly workerToken: string;
  readonly managerAddr: string;
  /** With autolock: the unlock key to keep (SKEPKEY-1-…). */
  readonly unlockKey?: string;
}

export interface SwarmUpdate {
  readonly autolock?: boolean;
}

export interface UnlockRequest {
  readonly key: string;
  /** Keep the key in the OS keychain (the desktop app only; the daemon ignores it). */
  readonly remember?: boolean;
}

export interface UnlockKeyResult {
  /** SKEPKEY-1-…, or null when autolock is off. */
  readonly key: string | null;
}

export interface JoinRequest {
  readonly token: string;
  readonly remoteAddr: string;
  readonly listenAddr?: string;
  readonly advertiseAddr?: string;
}

export interface JoinResult {
  readonly nodeId: string;
  readonly role: NodeRole;
}

export interface JoinTokenResult {
  readonly role: NodeRole;
  readonly token: string;
  readonly managerAddr: string;
}

export interface NodeUpdate {
  readonly availability?: NodeAvailability;
  readonly labelAdd?: Readonly<Record<string, string>>;
  readonly labelRm?: readonly string[];
}

// A manager: a Raft member holding the swarm store (state/), the control API on every manager
// (controlapi/), and the leader components — dispatcher (dispatcher/), role manager (roles/) and the
// services loop (services-loop.ts: orchestrator + scheduler passes) —
// started when this manager becomes leader and stopped when it stops being leader, as swarmkit's
// manager does. The manager only composes; each component's logic lives in its own room.
import type { PeerIdentity } from '../net/index.js';
import type { ConnectionPool, Logger } from '../net/index.js';
import { skepError, type SkepError } from '../../shared/errors.js';
import type { Caller } from '../protocol/index.js';
import type { PayloadCipher } from '../raft/storage/cipher.js';
import type { ConfState } from '../raft/types.js';
import type { AssignmentSet, TaskReport } from '../protocol/index.js';
import { randomBase36Id } from './ca/index.js';
import { ClusterControl } from './controlapi/cluster.js';
import { NodeControl } from './controlapi/nodes.js';
import { ServiceControl } from './controlapi/services.js';
import { assignmentsFromIndex, nodesWithChangedAssignments, statusCommand, type KnownSet } from './dispatcher/assignments.js';
import { Dispatcher } from './dispatcher/dispatcher.js';
import { RoleManager } from './roles/role-manager.js';
import { ServicesLoop } from './services-loop.js';
import { RaftStore, toSwarmError } from './state/raft-store.js';

export { toSwarmError };
export type { NodeReport } from './dispatcher/dispatcher.js';

export interface ManagerOptions {
  readonly nodeId: string;
  readonly raftDir: string;
  readonly pool: ConnectionPool;
  /** Founding membership for `swarm init`; absent when joining (the leader sends the state). */
  readonly bootstrap?: ConfState;
  readonly knownAddress: (nodeId: string) => string | undefined;
  readonly heartbeatPeriodMs: number;
  readonly tickMs?: number;
  readonly electionTick?: number;
  readonly proposalTimeoutMs?: number;
  /** Encryption at rest of the Raft data (the node's data key). */
  readonly cipher?: PayloadCipher;
  readonly logger: Logger;
  /** Raft applied a membership that no longer includes this node. */
  readonly onRemovedFromRaft: () => void;
  /** A node's removal applied: every manager cuts its connections. */
  readonly onNodeRemoved: (nodeId: string) => void;
  /** Raft stopped itself (storage failed or an invariant broke). */
  readonly onFatal: (error: Error) => void;
  /** Something in the store or the Raft group changed that the window shows. */
  readonly onChange: () => void;
  /** These nodes' task assignments changed: tell their live connections to fetch them. */
  readonly onAssignmentsChanged?: (nodeIds: ReadonlySet<string>) => void;
}

export class Manager {
  readonly nodes: NodeControl;
  readonly cluster: ClusterControl;
  readonly dispatcher: Dispatcher;
  readonly services: ServiceControl;
  private readonly roles: RoleManager;
  private readonly servicesLoop: ServicesLoop;
  private leading = false;
  private stopped = false;

  private constructor(
    readonly raft: RaftStore,
    private readonly options: ManagerOptions,
  ) {
    const state = () => raft.store.state;
    const onError = (error: unknown): void => options.logger.debug('manager: leader duties deferred', { error: error instanceof Error ? error.message : String(error) });
    this.nodes = new NodeControl({
      selfId: options.nodeId,
      state,
      proposer: raft,
      readBarrier: () => raft.readBarrier(),
      raftView: () => raft.raftView(),
      isRaftMember: (id) => raft.isMember(id),
    });
    this.cluster = new ClusterControl({ state, proposer: raft });
    this.services = new ServiceControl({ state, proposer: raft, readBarrier: () => raft.readBarrier(), newId: () => randomBase36Id() });
    this.servicesLoop = new ServicesLoop({ state, watch: (listener) => raft.store.watch(listener), proposer: raft, logger: options.logger });
    this.dispatcher = new Dispatcher({ selfId: options.nodeId, state, proposer: raft, heartbeatPeriodMs: options.heartbeatPeriodMs, onError });
    const node = raft.raftNode;
    this.roles = new RoleManager({
      selfId: options.nodeId,
      state,
      proposer: raft,
      onError,
      membership: {
        status: () => node.status(),
        addLearner: (id) => node.proposeConfChange({ type: 'addLearner', nodeId: id }),
        promote: (id) => node.proposeConfChange({ type: 'promote', nodeId: id }),
        remove: (id) => node.proposeConfChange({ type: 'removeNode', nodeId: id }).catch((error: unknown) => { throw toSwarmError(error); }),
        transferLeadership: (to) => node.transferLeadership(to, { timeoutMs: 3000 }),
      },
    });
  }

  static async start(options: ManagerOptions): Promise<Manager> {
    const raft = await RaftStore.open({
      nodeId: options.nodeId,
      raftDir: options.raftDir,
      pool: options.pool,
      knownAddress: options.knownAddress,
      logger: options.logger,
      ...(options.bootstrap ? { bootstrap: options.bootstrap } : {}),
      ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
      ...(options.electionTick !== undefined ? { electionTick: options.electionTick } : {}),
      ...(options.proposalTimeoutMs !== undefined ? { proposalTimeoutMs: options.proposalTimeoutMs } : {}),
      ...(options.cipher ? { cipher: options.cipher } : {}),
    });
    const manager = new Manager(raft, options);
    const node = raft.raftNode;
    // Catching up replays old memberships, so only a member that stops being one was removed.
    let wasMember = raft.isMember(options.nodeId);
    node.on('confChanged', () => {
      const member = raft.isMember(options.nodeId);
      if (wasMember && !member) options.onRemovedFromRaft();
      wasMember = member;
      options.onChange();
    });
    node.on('roleChanged', () => {
      manager.followLeadership();
      options.onChange();
    });
    node.on('leaderChanged', () => options.onChange());
    node.on('fatal', (error) => {
      manager.stopLeaderComponents();
      options.onFatal(error);
    });
    raft.store.watch((change) => {
      const removedBefore = new Set(change.previous.removed);
      for (const id of change.state.removed) if (!removedBefore.has(id)) options.onNodeRemoved(id);
      const assignmentsChanged = nodesWithChangedAssignments(change.previous, change.state);
      if (assignmentsChanged.size > 0) options.onAssignmentsChanged?.(assignmentsChanged);
      options.onChange();
    });
    manager.followLeadership();
    return manager;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get isLeader(): boolean {
    return this.raft.isLeader;
  }

  /** A node's complete set of tasks, from this manager's store (any manager answers); none when it holds them already. */
  assignments(nodeId: string, known?: KnownSet): AssignmentSet {
    return assignmentsFromIndex(this.raft.store, nodeId, known);
  }

  /** A node's reports on its own tasks, as one entry (a follower's proposal goes to the leader through Raft). */
  async reportTaskStatus(nodeId: string, reports: readonly TaskReport[]): Promise<void> {
    const command = statusCommand(this.raft.store.state, nodeId, reports);
    if (command) await this.raft.propose(command);
  }

  /**
   * Who may call the methods meant for `callers` (electron/protocol's table). Identity is the
   * certificate's; standing comes from this manager's store and Raft configuration.
   */
  authorize(peer: PeerIdentity, callers: Caller): SkepError | undefined {
    const state = this.raft.store.state;
    if (state.removed.includes(peer.nodeId)) return skepError('NODE_REMOVED');
    if (callers === 'raft-member') {
      if (peer.role !== 'swarm-manager') return skepError('PERMISSION_DENIED', 'raft', 'only managers may call this');
      const conf = this.raft.confState();
      // A manager that has just joined knows no configuration until the leader's first snapshot
      // arrives; until then a manager certificate of this swarm is all it can check.
      if (conf.voters.length === 0 && conf.learners.length === 0) return undefined;
      if (!this.raft.isMember(peer.nodeId) && !this.raft.mayBeNewerMember(peer.nodeId)) return skepError('PERMISSION_DENIED', 'raft', 'the caller is not a member of the Raft group');
      return undefined;
    }
    // 'node': any node the swarm knows. A node that joined a moment ago is known (registered
    // before its certificate was issued), so this never refuses a legitimate newcomer.
    if (!state.nodes[peer.nodeId]) return skepError('PERMISSION_DENIED', 'node', 'the caller is not a node of this swarm');
    return undefined;
  }

  private followLeadership(): void {
    if (this.stopped) return;
    const leader = this.raft.isLeader;
    if (leader === this.leading) return;
    this.leading = leader;
    if (leader) {
      this.dispatcher.start();
      this.roles.start();
      this.servicesLoop.start();
      this.options.logger.info('manager: this node is the leader; dispatcher, role manager and services loop started');
    } else {
      this.stopLeaderComponents();
    }
  }

  private stopLeaderComponents(): void {
    this.leading = false;
    this.dispatcher.stop();
    this.roles.stop();
    this.servicesLoop.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopLeaderComponents();
    await this.raft.stop();
  }
}

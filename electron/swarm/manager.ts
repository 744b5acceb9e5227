// A manager: a Raft member holding the swarm store. On the leader it also runs the dispatcher
// (node heartbeats → Ready/Down) and the role reconciler (spec.role → Raft membership), as
// swarmkit's dispatcher and role manager do.
import { skepError, SkepError } from '../../shared/errors.js';
import type { NodeDescription, RaftMemberView, RaftView } from '../../shared/types.js';
import type { ConnectionPool, Logger, PeerRef } from '../net/index.js';
import { ProposalDroppedError, type Message } from '../raft/core/index.js';
import { RaftNode, ProposalLeaderLostError, ProposalTimeoutError, RaftNodeStoppedError } from '../raft/node.js';
import type { ConfState, Entry } from '../raft/types.js';
import { decodeCommand, encodeCommand, SwarmStore, type ApplyResult, type Command, type NodeRecord } from './store.js';

export const RAFT_METHOD = 'raft.message';

export interface ManagerOptions {
  readonly nodeId: string;
  readonly raftDir: string;
  readonly pool: ConnectionPool;
  /** Founding membership for `swarm init`; absent when joining (the leader sends the state). */
  readonly bootstrap?: ConfState;
  /** Addresses of managers learned outside the store (before its first snapshot arrives). */
  readonly knownAddress: (nodeId: string) => string | undefined;
  readonly heartbeatPeriodMs: number;
  readonly tickMs?: number;
  readonly electionTick?: number;
  readonly proposalTimeoutMs?: number;
  readonly logger: Logger;
  /** Called when Raft applied a membership that no longer includes this node. */
  readonly onRemovedFromRaft: () => void;
}

export interface HeartbeatReport {
  readonly description: NodeDescription;
  readonly addr: string;
  readonly clusterAddr: string;
  readonly certNotAfter: string;
}

/** Between successive voters' early campaigns after the leader's connection reset. */
const FAILOVER_STAGGER_MS = 150;

/** Missed heartbeats after which a node is Down (Swarm's default is also 3 periods). */
const MISSED_HEARTBEATS = 3;

export class Manager {
  readonly store = new SwarmStore();
  private raft!: RaftNode<ApplyResult>;
  private readonly lastHeartbeat = new Map<string, number>();
  private readonly lastHeard = new Map<string, number>();
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconciling = false;
  private unsubscribeDisconnects: (() => void) | undefined;
  private failoverTimer: NodeJS.Timeout | undefined;
  private wasLeader = false;
  private stopped = false;

  private constructor(private readonly options: ManagerOptions) {}

  static async start(options: ManagerOptions): Promise<Manager> {
    const manager = new Manager(options);
    const store = manager.store;
    manager.raft = await RaftNode.start<ApplyResult>({
      id: options.nodeId,
      dataDir: options.raftDir,
      stateMachine: {
        apply: (entry: Entry) => store.apply(decodeCommand(entry.data)),
        snapshot: () => store.snapshot(),
        restore: (data) => store.restore(data),
      },
      transport: { send: (to, message) => manager.send(to, message) },
      ...(options.bootstrap ? { bootstrap: options.bootstrap } : {}),
      tickMs: options.tickMs ?? 100,
      electionTick: options.electionTick ?? 10,
      proposalTimeoutMs: options.proposalTimeoutMs ?? 4000,
      readTimeoutMs: options.proposalTimeoutMs ?? 4000,
      snapshotEntries: 2000,
      logger: (level, message, fields) => options.logger[level === 'debug' ? 'debug' : level === 'info' ? 'info' : level === 'warn' ? 'warn' : 'error'](message, fields),
    });
    // Catching up replays old memberships, so only a member that stops being one was removed.
    let wasMember = manager.isMember(manager.raft.status().confState);
    manager.raft.on('confChanged', (confState) => {
      const member = manager.isMember(confState);
      if (wasMember && !member) options.onRemovedFromRaft();
      wasMember = member;
    });
    manager.unsubscribeDisconnects = options.pool.onDisconnect((event) => {
      if (event.wasConnected && event.peer.nodeId !== undefined) manager.onPeerConnectionLost(event.peer.nodeId);
    });
    manager.reconcileTimer = setInterval(() => void manager.leaderDuties(), 250);
    manager.reconcileTimer.unref();
    return manager;
  }

  private isMember(confState: ConfState): boolean {
    return confState.voters.includes(this.options.nodeId) || confState.learners.includes(this.options.nodeId);
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get leaderId(): string | null {
    return this.raft.status().leader;
  }

  get isLeader(): boolean {
    return this.raft.status().role === 'leader';
  }

  get raftNode(): RaftNode<ApplyResult> {
    return this.raft;
  }

  /** Delivers a Raft message from a peer (already authenticated by mutual TLS). */
  receive(message: Message): void {
    this.lastHeard.set(message.from, Date.now());
    this.raft.receive(message);
  }

  addressOf(nodeId: string): string | undefined {
    const fromStore = this.store.state.nodes[nodeId]?.clusterAddr;
    return fromStore || this.options.knownAddress(nodeId);
  }

  private send(to: string, message: Message): void {
    const address = this.addressOf(to);
    if (!address) return; // Raft retries; the address arrives with the store or a heartbeat.
    this.options.pool.notify({ address, nodeId: to }, RAFT_METHOD, message);
  }

  /** Proposes a command from any manager (followers forward to the leader); maps Raft's failures to the catalog. */
  async propose(command: Command): Promise<void> {
    let result: ApplyResult;
    try {
      result = await this.raft.propose(encodeCommand(command));
    } catch (error) {
      throw toSwarmError(error);
    }
    if (!result.ok) throw skepError('INVALID_REQUEST', result.reason);
  }

  /** Waits until this manager has applied everything the leader had committed (a linearizable read). */
  async readBarrier(): Promise<void> {
    try {
      await this.raft.readIndex();
    } catch (error) {
      throw toSwarmError(error);
    }
  }

  confState(): ConfState {
    return this.raft.status().confState;
  }

  /** The Raft group as the UI draws it; the leader knows match indexes and contact times. */
  raftView(): RaftView {
    const status = this.raft.status();
    const now = Date.now();
    const members: RaftMemberView[] = [];
    const ids = [...status.confState.voters, ...status.confState.learners];
    for (const id of ids) {
      const node: NodeRecord | undefined = this.store.state.nodes[id];
      const progress = status.progress?.[id];
      const isSelf = id === status.id;
      const heard = this.lastHeard.get(id);
      // Only what was heard recently counts, except that a follower that has a leader trusts the
      // store's node status for the other followers (it does not talk to them directly).
      const heardRecently = heard !== undefined && now - heard < 2 * this.electionTimeoutMs();
      const reachable = isSelf
        ? true
        : status.role === 'leader' || status.leader === null || id === status.leader
          ? heardRecently
          : node?.status.state === 'ready';
      members.push({
        nodeId: id,
        hostname: node?.description.hostname ?? '',
        addr: node?.clusterAddr ?? this.options.knownAddress(id) ?? '',
        role: id === status.leader ? 'leader' : status.confState.learners.includes(id) ? 'learner' : isSelf && status.role === 'candidate' ? 'candidate' : 'follower',
        reachable,
        matchIndex: isSelf && status.role === 'leader' ? status.lastIndex : (progress?.match ?? null),
        lag: status.role === 'leader' ? (isSelf ? 0 : progress ? Math.max(0, status.lastIndex - progress.match) : null) : null,
        lastContactMs: isSelf ? 0 : heard === undefined ? null : now - heard,
      });
    }
    return { term: status.term, leaderId: status.leader, commitIndex: status.commit, appliedIndex: status.applied, members };
  }

  /**
   * Fast failover. A leader killed or rebooted resets its connections at once, long before an
   * election timeout (1–2 s) would notice. Every follower then forgets the leader (so it grants
   * pre-votes), and the remaining voters campaign in turn — by node ID, a stagger apart — so the
   * first one wins without a split vote. A leader that was only cut off (SIGSTOP, a pulled cable)
   * resets nothing, and PreVote with the leader lease still protects a healthy group from a node
   * that merely lost its connection: the others, still hearing the leader, refuse its pre-votes.
   */
  private onPeerConnectionLost(peerId: string): void {
    if (this.stopped) return;
    const status = this.raft.status();
    if (status.leader !== peerId || status.role === 'leader') return;
    this.raft.forgetLeader();
    const successors = status.confState.voters.filter((id) => id !== peerId).sort();
    const rank = successors.indexOf(this.options.nodeId);
    if (rank < 0) return;
    clearTimeout(this.failoverTimer);
    this.failoverTimer = setTimeout(() => {
      if (!this.stopped && this.raft.status().leader === null) this.raft.campaign();
    }, rank * FAILOVER_STAGGER_MS);
  }

  electionTimeoutMs(): number {
    return (this.options.tickMs ?? 100) * (this.options.electionTick ?? 10);
  }

  /** Dispatcher: a node's heartbeat, handled on the leader. */
  async heartbeat(nodeId: string, report: HeartbeatReport): Promise<void> {
    if (!this.isLeader) throw skepError('NO_LEADER');
    this.lastHeartbeat.set(nodeId, Date.now());
    const node = this.store.state.nodes[nodeId];
    if (!node) throw skepError('NODE_NOT_FOUND', nodeId);
    const changed =
      node.status.state !== 'ready' ||
      node.status.addr !== report.addr ||
      node.clusterAddr !== report.clusterAddr ||
      node.certNotAfter !== report.certNotAfter ||
      JSON.stringify(node.description) !== JSON.stringify(report.description);
    if (!changed) return;
    if (node.clusterAddr !== report.clusterAddr) {
      await this.propose({ op: 'node.register', node: { ...node, clusterAddr: report.clusterAddr, updatedAt: new Date().toISOString() } });
    }
    await this.propose({
      op: 'node.status',
      id: nodeId,
      at: new Date().toISOString(),
      state: 'ready',
      message: '',
      addr: report.addr,
      description: report.description,
      certNotAfter: report.certNotAfter,
    });
  }

  /** Forgets a node's heartbeats, e.g. after it left, so it turns Down at once. */
  forgetHeartbeat(nodeId: string): void {
    this.lastHeartbeat.delete(nodeId);
  }

  private async leaderDuties(): Promise<void> {
    if (this.stopped || this.reconciling) return;
    const leader = this.isLeader;
    if (leader && !this.wasLeader) {
      // A new leader has seen no heartbeats yet: give every node a full grace period.
      const now = Date.now();
      for (const id of Object.keys(this.store.state.nodes)) this.lastHeartbeat.set(id, now);
    }
    this.wasLeader = leader;
    if (!leader) return;
    this.reconciling = true;
    try {
      await this.markMissingNodesDown();
      await this.reconcileMembership();
    } catch (error) {
      this.options.logger.debug('manager: leader duties deferred', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      this.reconciling = false;
    }
  }

  private async markMissingNodesDown(): Promise<void> {
    const deadline = Date.now() - MISSED_HEARTBEATS * this.options.heartbeatPeriodMs;
    for (const node of Object.values(this.store.state.nodes)) {
      if (node.id === this.options.nodeId) continue;
      const last = this.lastHeartbeat.get(node.id) ?? 0;
      if (node.status.state !== 'down' && last < deadline) {
        await this.propose({ op: 'node.status', id: node.id, at: new Date().toISOString(), state: 'down', message: 'heartbeat failure' });
      }
    }
  }

  /** One membership step at a time, as Raft allows: add learners, promote caught-up ones, remove demoted. */
  private async reconcileMembership(): Promise<void> {
    const status = this.raft.status();
    const { voters, learners } = status.confState;
    const nodes = this.store.state.nodes;
    const self = this.options.nodeId;

    // Actual roles follow Raft membership: a voter is a manager, anything else a worker.
    for (const node of Object.values(nodes)) {
      const actual = voters.includes(node.id) ? 'manager' : 'worker';
      if (node.role !== actual) {
        await this.propose({ op: 'node.role', id: node.id, at: new Date().toISOString(), role: actual });
        return;
      }
    }
    // Demoted or removed voters leave Raft; the leader hands leadership over before removing itself.
    for (const id of [...voters, ...learners]) {
      const node = nodes[id];
      if (node && node.spec.role === 'manager') continue;
      if (id === self) {
        const successor = voters
          .filter((v) => v !== self && nodes[v]?.spec.role === 'manager')
          .sort((a, b) => (status.progress?.[b]?.match ?? 0) - (status.progress?.[a]?.match ?? 0))[0];
        if (successor) await this.raft.transferLeadership(successor, { timeoutMs: 3000 }).catch(() => undefined);
        return;
      }
      await this.raft.proposeConfChange({ type: 'removeNode', nodeId: id }).catch((error: unknown) => {
        throw toSwarmError(error);
      });
      return;
    }
    // Promote a learner that has caught up with the leader's log.
    for (const id of learners) {
      const match = status.progress?.[id]?.match ?? 0;
      if (match >= status.commit) {
        await this.raft.proposeConfChange({ type: 'promote', nodeId: id });
        return;
      }
    }
    // Add managers-to-be as learners once their cluster address is known.
    for (const node of Object.values(nodes)) {
      if (node.spec.role !== 'manager' || voters.includes(node.id) || learners.includes(node.id)) continue;
      if (!node.clusterAddr || node.status.state !== 'ready') continue;
      await this.raft.proposeConfChange({ type: 'addLearner', nodeId: node.id });
      return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reconcileTimer);
    clearTimeout(this.failoverTimer);
    this.unsubscribeDisconnects?.();
    await this.raft.stop();
  }
}

/** Raft's failures, in the words a Swarm user knows. */
export function toSwarmError(error: unknown): SkepError {
  if (error instanceof SkepError) return error;
  if (error instanceof ProposalDroppedError || error instanceof ProposalTimeoutError || error instanceof ProposalLeaderLostError) return skepError('NO_LEADER');
  if (error instanceof RaftNodeStoppedError) return skepError('NOT_IN_SWARM');
  return skepError('INTERNAL', error instanceof Error ? error.message : String(error));
}

export function peerRef(nodeId: string, address: string): PeerRef {
  return { address, nodeId };
}

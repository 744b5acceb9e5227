// The store replicated by Raft: a RaftNode (electron/raft) whose state machine is the SwarmStore,
// its transport over the cluster connections, the Raft view the window draws, and fast failover.
// Components write through `propose` (the Proposer interface) and read `store.state`.
import { skepError, SkepError } from '../../../shared/errors.js';
import type { RaftMemberView, RaftView } from '../../../shared/types.js';
import type { ConnectionPool, Logger, PeerPolicy } from '../../net/index.js';
import { send } from '../../protocol/index.js';
import { ProposalDroppedError, type Message } from '../../raft/core/index.js';
import { ProposalLeaderLostError, ProposalTimeoutError, RaftNode, RaftNodeStoppedError } from '../../raft/node.js';
import type { PayloadCipher } from '../../raft/storage/cipher.js';
import type { ConfState, Entry } from '../../raft/types.js';
import type { Proposer } from './proposer.js';
import { decodeCommand, encodeCommand, SwarmStore, type ApplyResult, type Command, type NodeRecord } from './store.js';

export interface RaftStoreOptions {
  readonly nodeId: string;
  readonly raftDir: string;
  readonly pool: ConnectionPool;
  /** Founding membership for `swarm init`; absent when joining (the leader sends the state). */
  readonly bootstrap?: ConfState;
  /** Addresses of managers learned outside the store (before its first snapshot arrives). */
  readonly knownAddress: (nodeId: string) => string | undefined;
  readonly tickMs?: number;
  readonly electionTick?: number;
  readonly proposalTimeoutMs?: number;
  /** Seals Raft entry and snapshot data at rest with this manager's data key (electron/node/at-rest.ts). */
  readonly cipher?: PayloadCipher;
  readonly logger: Logger;
}

/**
 * How the pool watches the other members of the Raft group (README of electron/raft, "Failover without a
 * reset"): a PING after 100 ms of quiet, the connection given up after 1 s without a byte (a pulled cable
 * sends no reset), reconnects at most 100 ms apart and a fresh SYN every 400 ms — so a healed path is used
 * within a fraction of a second, not after TCP's retransmission timers.
 */
export const RAFT_PEER_POLICY: PeerPolicy = { keepaliveMs: 100, idleTimeoutMs: 1000, maxBackoffMs: 100, connectAttemptMs: 400 };

export class RaftStore implements Proposer {
  readonly store = new SwarmStore();
  private raft!: RaftNode<ApplyResult>;
  private readonly lastHeard = new Map<string, number>();
  private unsubscribeDisconnects: (() => void) | undefined;
  private readonly watchedPeers = new Set<string>();
  private stopped = false;

  private constructor(private readonly options: RaftStoreOptions) {}

  static async open(options: RaftStoreOptions): Promise<RaftStore> {
    const replicated = new RaftStore(options);
    const store = replicated.store;
    replicated.raft = await RaftNode.start<ApplyResult>({
      id: options.nodeId,
      dataDir: options.raftDir,
      stateMachine: {
        apply: (entry: Entry) => store.apply(decodeCommand(entry.data), entry.index),
        snapshot: () => store.snapshot(),
        restore: (data) => store.restore(data),
      },
      transport: { send: (to, message) => replicated.send(to, message) },
      // Only managers reach Raft (electron/protocol checks the certificate first); this is the rest.
      admitNonMember: (id) => replicated.mayBeNewerMember(id),
      ...(options.bootstrap ? { bootstrap: options.bootstrap } : {}),
      tickMs: options.tickMs ?? 100,
      electionTick: options.electionTick ?? 10,
      proposalTimeoutMs: options.proposalTimeoutMs ?? 4000,
      readTimeoutMs: options.proposalTimeoutMs ?? 4000,
      snapshotEntries: 2000,
      ...(options.cipher ? { cipher: options.cipher } : {}),
      leaderSilence: {},
      transportHeardAt: (peer) => options.pool.lastHeardFrom(peer),
      logger: (level, message, fields) => options.logger[level](message, fields),
    });
    replicated.unsubscribeDisconnects = options.pool.onDisconnect((event) => {
      // Silence (an idle timeout) is the silence detector's to judge, with its adaptive threshold.
      if (event.wasConnected && !event.silent && event.peer.nodeId !== undefined) replicated.onPeerConnectionLost(event.peer.nodeId);
    });
    replicated.watchMembers(replicated.raft.status().confState);
    replicated.raft.on('confChanged', (conf) => replicated.watchMembers(conf));
    return replicated;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get raftNode(): RaftNode<ApplyResult> {
    return this.raft;
  }

  get leaderId(): string | null {
    return this.raft.status().leader;
  }

  get isLeader(): boolean {
    return this.raft.status().role === 'leader';
  }

  confState(): ConfState {
    return this.raft.status().confState;
  }

  /** A voter or learner of this manager's current configuration. */
  isMember(nodeId: string): boolean {
    const conf = this.confState();
    return conf.voters.includes(nodeId) || conf.learners.includes(nodeId);
  }

  /**
   * A manager this one has not heard of may be a member added after the end of its log (this
   * manager is behind); one the store knows as anything but a wanted manager is not.
   */
  mayBeNewerMember(nodeId: string): boolean {
    const state = this.store.state;
    if (state.removed.includes(nodeId)) return false;
    const node = state.nodes[nodeId];
    return node === undefined || node.spec.role === 'manager';
  }

  /** Delivers a Raft message from a peer the protocol has already admitted. */
  receive(message: Message): void {
    this.lastHeard.set(message.from, Date.now());
    // It reached us, so a path to it works again: what we have to send it need not wait for a backoff.
    if (this.watchedPeers.has(message.from)) this.options.pool.wake(message.from);
    this.raft.receive(message);
  }

  /** The other members get the pool's close watch (RAFT_PEER_POLICY); former members go back to its defaults. */
  private watchMembers(conf: ConfState): void {
    const members = new Set([...conf.voters, ...conf.learners].filter((id) => id !== this.options.nodeId));
    for (const id of this.watchedPeers) {
      if (members.has(id)) continue;
      this.watchedPeers.delete(id);
      this.options.pool.setPeerPolicy(id, undefined);
    }
    for (const id of members) {
      if (this.watchedPeers.has(id)) continue;
      this.watchedPeers.add(id);
      this.options.pool.setPeerPolicy(id, RAFT_PEER_POLICY);
    }
  }

  addressOf(nodeId: string): string | undefined {
    const fromStore = this.store.state.nodes[nodeId]?.clusterAddr;
    return fromStore || this.options.knownAddress(nodeId);
  }

  private send(to: string, message: Message): void {
    const address = this.addressOf(to);
    if (!address) return; // Raft retries; the address arrives with the store or a heartbeat.
    // Raft talks only to managers: the peer must hold that node's manager certificate.
    send(this.options.pool, { address, nodeId: to, role: 'swarm-manager' }, 'raft.message', message as never);
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

  electionTimeoutMs(): number {
    return (this.options.tickMs ?? 100) * (this.options.electionTick ?? 10);
  }

  /** The Raft group as the UI draws it; the leader knows match indexes and contact times. */
  raftView(): RaftView {
    const status = this.raft.status();
    const now = Date.now();
    const members: RaftMemberView[] = [];
    for (const id of [...status.confState.voters, ...status.confState.learners]) {
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
   * Fast failover on a reset. A leader killed or rebooted resets its connections at once, long before any
   * timer would notice: the followers forget it and the survivors campaign in node-ID order (RaftNode.leaderLost).
   * A leader only cut off (a pulled cable, SIGSTOP) resets nothing; RaftNode's silence detector handles that.
   * Either way PreVote and the leader lease protect a healthy group: a follower that alone lost its connection
   * is refused by the others, who still hear the leader.
   */
  private onPeerConnectionLost(peerId: string): void {
    if (this.stopped) return;
    this.raft.leaderLost(peerId, 'connection reset');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribeDisconnects?.();
    for (const id of this.watchedPeers) this.options.pool.setPeerPolicy(id, undefined);
    this.watchedPeers.clear();
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

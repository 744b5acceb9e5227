import type { ConfState, Entry, HardState, NodeId, Snapshot } from '../types.js';
import type { RaftConfig, UnsafeKnobs } from './config.js';
import {
  type ConfChange,
  applyConfChangeTo,
  confChangeProblem,
  decodeConfChangeEntry,
  encodeBootstrap,
  encodeConfChange,
} from './confchange.js';
import { ProposalDroppedError, RaftInvariantError } from './errors.js';
import { DEFAULT_INGRESS_BOUNDS, type IngressBounds, type IngressDropReason, wellFormedProblem } from './ingress.js';
import { RaftLog } from './log.js';
import { type Message, type MessageFields, isLocalMessage, newMessage } from './messages.js';
import type { ProgressState } from './progress.js';
import { ReadOnlyQueue } from './readonly.js';
import { type Ready, type ReadState, type Role, type SoftState, mustSync } from './ready.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import { Tracker } from './tracker.js';

export interface PeerStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  readonly inflight: number;
  readonly isLearner: boolean;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly role: Role;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly firstIndex: number;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId | null;
  /** Messages from other nodes dropped at the door since start, by reason (reasons never seen are absent). */
  readonly droppedMessages: Readonly<Partial<Record<IngressDropReason, number>>>;
  /** Only on the leader. */
  readonly progress?: Readonly<Record<NodeId, PeerStatus>>;
}

type StepFn = (m: Message) => void;
type CampaignKind = 'preElection' | 'election' | 'transfer';
type State = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

const DEFAULT_MAX_BYTES = 1024 * 1024;
/** Heartbeat rounds without snapshot progress before the current chunk is sent again. */
const SNAPSHOT_RESEND_HEARTBEATS = 3;

/**
 * The deterministic Raft state machine (etcd's raft + RawNode). No clock, no I/O:
 * the host calls tick() on a timer, step() for each received message, and drains
 * ready()/advance() (see Ready for the persist-before-send contract).
 */
export class RaftCore {
  readonly id: NodeId;
  private term = 0;
  private vote: NodeId | null = null;
  private lead: NodeId | null = null;
  private state: State = 'follower';
  private stepRole: StepFn = (m) => this.stepFollower(m);

  private readonly log: RaftLog;
  private readonly tracker: Tracker;
  /** Membership as of each applied conf change, so a snapshot at an older index gets its own ConfState. */
  private confHistory: { index: number; confState: ConfState }[] = [];
  /** The latest snapshot (made here or received); what a lagging follower is sent. */
  private snapshot: Snapshot | null;
  /** A snapshot received from the leader that the host has not yet persisted and applied. */
  private pendingSnapshot: Snapshot | undefined;
  private readonly receiver = new SnapshotReceiver();

  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private randomizedElectionTimeout = 0;
  /** Ticks since the last valid leader contact (follower) or since the last quorum check (leader). */
  private electionElapsed = 0;
  private heartbeatElapsed = 0;

  private readonly maxBytesPerMessage: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly random: () => number;
  private readonly unsafe: UnsafeKnobs;
  private readonly ingressBounds: IngressBounds;
  private readonly admitNonMember: ((id: NodeId) => boolean) | undefined;
  /** Nodes that left the configuration while this node watched; their messages are dropped. */
  private readonly removed = new Set<NodeId>();
  private readonly dropped: Partial<Record<IngressDropReason, number>> = {};

  private leadTransferee: NodeId | null = null;
  /** Index of the last conf change appended by this leader; a new one waits until it is applied. */
  private pendingConfIndex = 0;
  private readonly readOnly = new ReadOnlyQueue();
  /** A TimeoutNow arrived while conf changes were still unapplied. */
  private campaignAfterApply = false;

  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private outstanding: Ready | undefined;

  constructor(config: RaftConfig) {
    this.id = config.id;
    this.electionTimeout = config.electionTick ?? 10;
    this.heartbeatTimeout = config.heartbeatTick ?? 1;
    if (this.heartbeatTimeout >= this.electionTimeout) throw new Error('raft: heartbeatTick must be below electionTick');
    this.maxBytesPerMessage = config.maxBytesPerMessage ?? DEFAULT_MAX_BYTES;
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.random = config.random;
    this.unsafe = config.unsafe ?? {};
    this.ingressBounds = { ...DEFAULT_INGRESS_BOUNDS, ...config.ingressBounds };
    this.admitNonMember = config.admitNonMember;
    const maxInflight = config.maxInflightMessages ?? 256;
    this.tracker = new Tracker(maxInflight);

    const restored = config.restore;
    const snap = restored?.snapshot ?? null;
    this.snapshot = snap;
    this.log = RaftLog.restore(snap?.metadata.index ?? 0, snap?.metadata.term ?? 0, restored?.entries ?? []);
    this.setConf(snap?.metadata.confState ?? { voters: [], learners: [] }, snap?.metadata.index ?? 0);
    if (restored) {
      this.term = restored.hardState.term;
      this.vote = restored.hardState.vote;
      this.log.commitTo(Math.min(restored.hardState.commit, this.log.lastIndex()));
      const applied = Math.min(config.applied ?? 0, this.log.committed);
      // The host's state machine already holds these; only their membership effect must be replayed.
      for (const e of this.log.slice(this.log.applied + 1, applied + 1) ?? []) {
        this.log.appliedTo(e.index);
        if (e.type === 'confChange') this.applyConfChangeEntry(e);
      }
    } else if (config.bootstrap) {
      this.term = 1;
      const entry: Entry = { term: 1, index: 1, type: 'confChange', data: encodeBootstrap(config.bootstrap) };
      this.log.append([entry]);
      this.log.commitTo(1);
      // Applied here, not by the host: founders can campaign before their first Ready. The host
      // never sees entry 1 in committedEntries (a node that joins later applies it like any entry).
      this.log.appliedTo(1);
      this.setConf(config.bootstrap, 1);
    }
    this.prevHardState = restored?.hardState ?? { term: 0, vote: null, commit: 0 };
    this.becomeFollower(this.term, null);
    this.prevSoftState = restored ? this.softState() : { leader: null, role: 'follower' };
  }

  // ---- public inputs: each is a message stepped through the single door ----

  tick(): void {
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /** Campaign now (as after an election timeout). */
  campaign(): void {
    this.step(newMessage({ type: 'hup', from: this.id }));
  }

  /**
   * The host learned the leader is gone (its connection was reset, which a timer can't see), as
   * etcd's MsgForgetLeader: a follower drops its leader, so it leaves the lease and grants
   * pre-votes at once. Safety is untouched — votes still need a current log and a free vote — and
   * a leader that is in fact alive is re-learned from its next heartbeat.
   */
  forgetLeader(): void {
    this.step(newMessage({ type: 'forgetLeader', from: this.id }));
  }

  /** Throws ProposalDroppedError when there is no leader to take it; the caller retries. */
  propose(data: Uint8Array): void {
    this.step(newMessage({ type: 'prop', from: this.id, entries: [{ term: 0, index: 0, type: 'normal', data }] }));
  }

  proposeConfChange(change: ConfChange): void {
    const entry: Entry = { term: 0, index: 0, type: 'confChange', data: encodeConfChange(change) };
    this.step(newMessage({ type: 'prop', from: this.id, entries: [entry] }));
  }

  transferLeadership(to: NodeId): void {
    if (this.lead === null) throw new ProposalDroppedError('no-leader');
    this.step(newMessage({ type: 'transferLeader', from: this.id, to: this.id, transferee: to }));
  }

  /** Ask for a linearizable read point; the answer arrives as a ReadState with this context. */
  readIndex(context: Uint8Array): void {
    this.step(newMessage({ type: 'readIndex', from: this.id, context }));
  }

  /** The host made a snapshot of its state machine at `index` (<= applied). */
  createSnapshot(index: number, data: Uint8Array): Snapshot {
    if (index > this.log.applied) throw new RaftInvariantError(`snapshot at ${index} beyond applied ${this.log.applied}`);
    const term = this.log.term(index);
    if (term === undefined) throw new RaftInvariantError(`snapshot at compacted index ${index}`);
    const snapshot: Snapshot = { metadata: { index, term, confState: this.confStateAt(index) }, data };
    if (!this.snapshot || index > this.snapshot.metadata.index) this.snapshot = snapshot;
    return snapshot;
  }

  /** Drop log entries up to `index`; a snapshot must cover it. */
  compact(index: number): void {
    if (!this.snapshot || index > this.snapshot.metadata.index) {
      throw new RaftInvariantError(`compact ${index}: no snapshot covers it`);
    }
    this.log.compact(index);
    const keepFrom = this.confHistory.findLastIndex((c) => c.index <= index);
    if (keepFrom > 0) this.confHistory = this.confHistory.slice(keepFrom);
  }

  /**
   * Every input goes through here. A message whose `from` is this node is a local input (what the public
   * methods step, or the host's own batched proposal); anything else came from another node, is checked at
   * the door (see refusal()) and, when it is malformed, impossible or from a non-member, dropped and counted
   * in status().droppedMessages. Nothing a peer sends makes this throw.
   */
  step(m: Message): void {
    if (typeof m !== 'object' || m === null) {
      this.countDrop('malformed');
      return;
    }
    if (m.from !== this.id) {
      const refused = this.refusal(m);
      if (refused !== null) {
        this.countDrop(refused);
        return;
      }
    } else if (!isLocalInput(m.type)) {
      this.countDrop('from-self');
      return;
    }
    if (m.term === 0) {
      // Local, or forwarded by a follower: no term to check.
    } else if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const inLease = this.checkQuorum && this.lead !== null && this.electionElapsed < this.electionTimeout;
        // A node that heard from a live leader recently ignores would-be disruptors (a rejoining or waking node).
        if (inLease && !m.transfer) return;
      }
      if (m.type === 'preVote') {
        // Never change term on a PreVote: that is the point of PreVote.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // The term is bumped when the pre-election is won.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      if (m.type === 'app' && this.unsafe.acceptStaleTermAppend) {
        this.handleAppendEntries(m);
        return;
      }
      if ((this.checkQuorum || this.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // Tell a stale leader about the newer term so it steps down instead of being ignored forever.
        this.send({ type: 'appResp', to: m.from });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResp', to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case 'hup':
        this.hup(this.preVote ? 'preElection' : 'election');
        return;
      case 'forgetLeader':
        if (this.state === 'follower') this.lead = null;
        return;
      case 'vote':
      case 'preVote':
        this.handleVoteRequest(m);
        return;
      default:
        this.stepRole(m);
    }
  }

  // ---- the door: what another node may send ----

  /**
   * Why a message from another node must be dropped, or null to step it. Judged before the message has any
   * effect, so a dropped message changes nothing but a counter: first its shape, then its sender's standing,
   * then whether a correct member could have sent it to this node in its present state.
   */
  private refusal(m: Message): IngressDropReason | null {
    const shape = wellFormedProblem(m, this.ingressBounds);
    if (shape !== null) return shape;
    if (m.to !== this.id) return 'wrong-recipient';
    const standing = this.senderStanding(m);
    if (standing !== null) return standing;
    switch (m.type) {
      case 'heartbeat':
        // A leader sends min(the follower's acknowledged match, its commit): never past what we hold.
        if (m.term >= this.term && m.commit > this.log.lastIndex()) return 'commit-past-log';
        return this.secondLeader(m);
      case 'app':
      case 'snap':
        return this.secondLeader(m);
      case 'appResp':
      case 'snapResp':
        // In our term our log only grew, and we never sent past its end.
        return m.term === this.term && m.index > this.log.lastIndex() ? 'ack-past-log' : null;
      case 'voteResp':
        // A grant carries the candidate's term: a later one answers a campaign we never ran.
        return !m.reject && m.term > this.term ? 'unsolicited-response' : null;
      case 'preVoteResp':
        return !m.reject && m.term > this.term + 1 ? 'unsolicited-response' : null;
      case 'timeoutNow':
      case 'readIndexResp':
        // Only our leader, in our term, hands over leadership or answers our reads.
        return m.term === this.term && m.from === this.lead ? null : 'unsolicited-response';
      default:
        return null;
    }
  }

  /** Election safety: one leader per term. Another node leading our term is impossible. */
  private secondLeader(m: Message): IngressDropReason | null {
    if (m.term !== this.term) return null;
    return this.state === 'leader' || (this.lead !== null && this.lead !== m.from) ? 'second-leader' : null;
  }

  /**
   * Members (voters and learners) may speak, learners not for votes. Removed nodes may not, so a node that
   * left cannot move anyone's term or log. A stranger is admitted only when the host vouches for it
   * (`admitNonMember`) or, without such a host, when it plays leader to a node that is not yet in its own
   * configuration: a joining node learns the membership from a leader it cannot know yet.
   */
  private senderStanding(m: Message): IngressDropReason | null {
    const from = m.from;
    if (this.tracker.isMember(from)) {
      if ((m.type === 'vote' || m.type === 'preVote') && !this.tracker.voters.has(from)) return 'vote-from-non-voter';
      return null;
    }
    if (this.removed.has(from)) {
      // A leader that removed itself hands over with timeoutNow, which may land after we applied its removal.
      return m.type === 'timeoutNow' && from === this.lead ? null : 'removed-member';
    }
    if (this.admitNonMember) {
      try {
        return this.admitNonMember(from) ? null : 'non-member';
      } catch {
        return 'non-member';
      }
    }
    const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';
    return fromLeader && !this.tracker.isMember(this.id) ? null : 'non-member';
  }

  private countDrop(reason: IngressDropReason): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  // ---- Ready / advance ----

  /** Whether ready() has work; false while a taken Ready still awaits advance(). */
  hasReady(): boolean {
    if (this.outstanding) return false;
    const soft = this.softState();
    return (
      soft.leader !== this.prevSoftState.leader ||
      soft.role !== this.prevSoftState.role ||
      !sameHardState(this.hardState(), this.prevHardState) ||
      this.log.lastIndex() > this.log.stabled ||
      this.pendingSnapshot !== undefined ||
      this.log.committed > this.log.applied ||
      this.msgs.length > 0 ||
      this.readStates.length > 0
    );
  }

  /** Take the pending work. Must be followed by advance() before the next ready(). */
  ready(): Ready {
    if (this.outstanding) throw new Error('raft: ready() called again before advance()');
    const soft = this.softState();
    const hard = this.hardState();
    const entries = this.log.unstableEntries();
    const softChanged = soft.leader !== this.prevSoftState.leader || soft.role !== this.prevSoftState.role;
    const hardChanged = !sameHardState(hard, this.prevHardState);
    const applyFrom = Math.max(this.log.applied, this.pendingSnapshot?.metadata.index ?? 0) + 1;
    const rd: Ready = {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardChanged ? { hardState: this.unsafe.forgetVote ? { ...hard, vote: null } : hard } : {}),
      entries,
      ...(this.pendingSnapshot ? { snapshot: this.pendingSnapshot } : {}),
      committedEntries: this.log.slice(applyFrom, this.log.committed + 1) ?? [],
      messages: this.msgs,
      readStates: this.readStates,
      mustSync: mustSync(this.prevHardState, hard, entries.length),
    };
    this.msgs = [];
    this.readStates = [];
    this.prevSoftState = soft;
    this.prevHardState = hard;
    this.outstanding = rd;
    return rd;
  }

  /** The host persisted, sent and applied the last Ready. Conf change entries take effect here. */
  advance(): void {
    const rd = this.outstanding;
    if (!rd) throw new Error('raft: advance() without ready()');
    this.outstanding = undefined;
    if (rd.snapshot && this.pendingSnapshot === rd.snapshot) {
      this.pendingSnapshot = undefined;
      this.log.appliedTo(rd.snapshot.metadata.index);
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last) this.log.stableTo(last.index, last.term);
    for (const e of rd.committedEntries) {
      if (e.index <= this.log.applied) continue;
      this.log.appliedTo(e.index);
      if (e.type === 'confChange') this.applyConfChangeEntry(e);
    }
    if (this.campaignAfterApply && !this.hasUnappliedConfChanges()) {
      this.campaignAfterApply = false;
      if (this.state === 'follower') this.hup('transfer');
    }
  }

  status(): RaftStatus {
    const base = {
      id: this.id,
      term: this.term,
      vote: this.vote,
      leader: this.lead,
      role: this.role(),
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      firstIndex: this.log.firstIndex(),
      confState: this.tracker.confState(),
      leadTransferee: this.leadTransferee,
      droppedMessages: { ...this.dropped },
    };
    if (this.state !== 'leader') return base;
    const progress: Record<NodeId, PeerStatus> = {};
    for (const [id, pr] of this.tracker.progress) {
      progress[id] = {
        match: pr.match,
        next: pr.next,
        state: pr.state,
        recentActive: pr.recentActive,
        inflight: pr.inflights.count,
        isLearner: pr.isLearner,
      };
    }
    return { ...base, progress };
  }

  /** Term of the entry at index, for tests and invariant checks; undefined when compacted or absent. */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  entryAt(index: number): Entry | undefined {
    return this.log.entry(index);
  }

  // ---- roles ----

  private softState(): SoftState {
    return { leader: this.lead, role: this.role() };
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private role(): Role {
    if (this.state === 'follower' && this.tracker.learners.has(this.id)) return 'learner';
    return this.state;
  }

  /** Only voters may campaign: learners and removed nodes never disturb the group. */
  private promotable(): boolean {
    return this.tracker.voters.has(this.id);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
    this.leadTransferee = null;
    this.tracker.resetVotes();
    for (const [id, pr] of this.tracker.progress) {
      pr.becomeProbe();
      pr.match = id === this.id ? this.log.lastIndex() : 0;
      pr.next = this.log.lastIndex() + 1;
      pr.recentActive = false;
    }
    this.pendingConfIndex = 0;
    this.readOnly.clear();
    this.campaignAfterApply = false;
  }

  private becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
    this.stepRole = (m) => this.stepFollower(m);
  }

  private becomePreCandidate(): void {
    // Term and vote stay: a pre-election changes nothing durable.
    this.tracker.resetVotes();
    this.lead = null;
    this.state = 'pre-candidate';
    this.stepRole = (m) => this.stepCandidate(m);
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = 'candidate';
    this.stepRole = (m) => this.stepCandidate(m);
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    this.stepRole = (m) => this.stepLeader(m);
    const self = this.tracker.progress.get(this.id);
    if (self) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Conservative: an older conf change may still be uncommitted in the log we inherited.
    this.pendingConfIndex = this.log.lastIndex();
    // §5.4.2: entries of earlier terms commit only once an entry of this term does.
    this.appendEntries([{ term: 0, index: 0, type: 'normal', data: new Uint8Array() }]);
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(newMessage({ type: 'hup', from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(newMessage({ type: 'checkQuorum', from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned so proposals flow again.
      if (this.state === 'leader') this.leadTransferee = null;
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(newMessage({ type: 'beat', from: this.id }));
    }
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const ents = this.log.slice(this.log.applied + 1, this.log.committed + 1) ?? [];
    return ents.some((e) => e.type === 'confChange');
  }

  private hup(kind: CampaignKind): void {
    if (this.state === 'leader') return;
    if (!this.promotable()) return;
    // Our membership view may be stale until those entries are applied.
    if (this.hasUnappliedConfChanges()) return;
    this.campaignAs(kind);
  }

  private campaignAs(kind: CampaignKind): void {
    let term: number;
    let type: 'vote' | 'preVote';
    if (kind === 'preElection') {
      this.becomePreCandidate();
      type = 'preVote';
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      type = 'vote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      if (kind === 'preElection') this.campaignAs('election');
      else this.becomeLeader();
      return;
    }
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      this.send({
        type,
        to: id,
        term,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        ...(kind === 'transfer' ? { transfer: true } : {}),
      });
    }
  }

  private poll(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    this.tracker.recordVote(id, granted);
    return this.tracker.tallyVotes().result;
  }

  private handleVoteRequest(m: Message): void {
    const respType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    const canVote =
      this.vote === m.from || (this.vote === null && this.lead === null) || (m.type === 'preVote' && m.term > this.term);
    const upToDate = this.unsafe.skipLogUpToDateCheck || this.log.isUpToDate(m.index, m.logTerm);
    if (canVote && upToDate) {
      // The response carries the candidate's term: for a PreVote ours has not changed yet.
      this.send({ type: respType, to: m.from, term: m.term });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else if (this.term > 0) {
      // (At term 0 there is nothing to tell: the candidate's term is newer than any we could name.)
      this.send({ type: respType, to: m.from, term: this.term, reject: true });
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'beat':
        this.bcastHeartbeat();
        return;
      case 'checkQuorum':
        if (!this.tracker.quorumActive(this.id)) {
          this.becomeFollower(this.term, null);
          return;
        }
        for (const [id, pr] of this.tracker.progress) if (id !== this.id) pr.recentActive = false;
        return;
      case 'prop':
        this.leaderPropose(m);
        return;
      case 'readIndex':
        this.leaderReadIndex(m);
        return;
    }
    const pr = this.tracker.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'appResp':
        pr.recentActive = true;
        if (m.reject) this.handleAppendRejection(m);
        else this.handleAppendAck(m);
        return;
      case 'heartbeatResp':
        pr.recentActive = true;
        pr.probeSent = false;
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.state === 'snapshot') {
          if (pr.snapshotStall >= SNAPSHOT_RESEND_HEARTBEATS) this.resumeSnapshot(m.from);
        } else if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (m.context && m.context.length > 0) this.ackRead(m.context, m.from);
        return;
      case 'snapResp':
        pr.recentActive = true;
        if (pr.state !== 'snapshot' || !pr.snapshot) return;
        if (m.index !== pr.snapshot.metadata.index) pr.snapshotOffset = 0;
        else if (m.rejectHint > pr.snapshotOffset || (m.reject && m.rejectHint < pr.snapshotOffset)) pr.snapshotOffset = m.rejectHint;
        // A duplicate ack or a complaint about a duplicate chunk: the next chunk is already on its way.
        else return;
        this.sendSnapshotChunk(m.from);
        return;
      case 'transferLeader':
        this.leaderTransfer(m.transferee ?? m.from);
        return;
    }
  }

  private stepCandidate(m: Message): void {
    const myRespType = this.state === 'pre-candidate' ? 'preVoteResp' : 'voteResp';
    switch (m.type) {
      case 'prop':
      case 'readIndex':
        this.drop(m, 'no-leader');
        return;
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshotChunk(m);
        return;
      case 'voteResp':
      case 'preVoteResp': {
        if (m.type !== myRespType) return;
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') {
          if (this.state === 'pre-candidate') this.campaignAs('election');
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          this.becomeFollower(this.term, null);
        }
        return;
      }
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'prop':
        // Only our own proposals are forwarded: relaying others' could loop between stale followers.
        if (this.lead === null) return this.drop(m, 'no-leader');
        if (m.from !== this.id) return;
        this.send({ type: 'prop', to: this.lead, entries: m.entries });
        return;
      case 'readIndex':
        if (this.lead === null) return this.drop(m, 'no-leader');
        if (m.from !== this.id) return;
        this.send({ type: 'readIndex', to: this.lead, ...(m.context ? { context: m.context } : {}) });
        return;
      case 'transferLeader':
        // Like proposals, only our own requests are forwarded.
        if (this.lead === null || m.from !== this.id || m.transferee === undefined) return;
        this.send({ type: 'transferLeader', to: this.lead, transferee: m.transferee });
        return;
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshotChunk(m);
        return;
      case 'timeoutNow':
        // Leadership transfer: skip PreVote and the lease, the leader asked for this. If a
        // committed conf change (say, the old leader's removal) is not applied yet, campaign right after it is.
        if (this.hasUnappliedConfChanges()) this.campaignAfterApply = true;
        else this.hup('transfer');
        return;
      case 'readIndexResp':
        this.readStates.push({ index: m.index, context: m.context ?? new Uint8Array() });
        return;
    }
  }

  /** Local inputs throw so the caller knows at once; forwarded ones vanish (the origin times out). */
  private drop(m: Message, reason: ProposalDroppedError['reason']): void {
    if (m.from === this.id && m.type !== 'transferLeader') throw new ProposalDroppedError(reason);
  }

  // ---- leader: proposals, replication, commit ----

  private leaderPropose(m: Message): void {
    const local = m.from === this.id;
    const reject = (reason: ProposalDroppedError['reason'], detail?: string): void => {
      if (local) throw new ProposalDroppedError(reason, detail);
    };
    if (!this.tracker.isMember(this.id)) return reject('removed');
    if (this.leadTransferee !== null) return reject('transferring-leadership');
    let confChanges = 0;
    for (const e of m.entries) {
      if (e.type !== 'confChange') continue;
      if (this.pendingConfIndex > this.log.applied || ++confChanges > 1) return reject('conf-change-pending');
      let data: ReturnType<typeof decodeConfChangeEntry>;
      try {
        data = decodeConfChangeEntry(e.data);
      } catch (err) {
        return reject('invalid-conf-change', err instanceof Error ? err.message : String(err));
      }
      if (data.kind !== 'change') return reject('invalid-conf-change', 'bootstrap entries cannot be proposed');
      const problem = confChangeProblem(this.tracker.confState(), data.change);
      if (problem !== null) return reject('invalid-conf-change', problem);
    }
    const firstNew = this.log.lastIndex() + 1;
    m.entries.forEach((e, i) => {
      if (e.type === 'confChange') this.pendingConfIndex = firstNew + i;
    });
    this.appendEntries(m.entries);
    this.bcastAppend();
  }

  private appendEntries(es: readonly Entry[]): void {
    const li = this.log.lastIndex();
    const ents = es.map((e, i): Entry => ({ term: this.term, index: li + 1 + i, type: e.type, data: e.data }));
    this.log.append(ents);
    // The leader's own write is durable before any ack it triggers is sent (persist-before-send), so it counts now.
    this.tracker.progress.get(this.id)?.maybeUpdate(this.log.lastIndex());
    this.maybeCommit();
  }

  private maybeCommit(): boolean {
    const index = this.tracker.committedIndex();
    if (index <= this.log.committed) return false;
    if (!this.unsafe.commitPreviousTermByCounting && this.log.term(index) !== this.term) return false;
    this.log.commitTo(index);
    return true;
  }

  private handleAppendRejection(m: Message): void {
    const pr = this.tracker.progress.get(m.from);
    if (!pr) return;
    let nextProbe = m.rejectHint;
    if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      this.sendAppend(m.from);
    }
  }

  private handleAppendAck(m: Message): void {
    const pr = this.tracker.progress.get(m.from);
    if (!pr) return;
    const wasPaused = pr.isPaused();
    const updated = pr.maybeUpdate(m.index);
    if (pr.state === 'snapshot' && m.index >= (pr.snapshot?.metadata.index ?? 0)) {
      // Installed (or not needed). If we compacted further meanwhile, probing finds that out.
      pr.becomeProbe();
      if (pr.match + 1 >= this.log.firstIndex()) pr.becomeReplicate();
    } else if (!updated) return;
    else if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

    if (this.maybeCommit()) this.bcastAppend();
    else if (wasPaused) this.sendAppend(m.from);
    while (this.maybeSendAppend(m.from, false)) {
      // Keep the pipeline full up to the inflight limit.
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(context?: Uint8Array): void {
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      if (pr.state === 'snapshot') pr.snapshotStall++;
      this.send({
        type: 'heartbeat',
        to: id,
        commit: Math.min(pr.match, this.log.committed),
        ...(context ? { context } : {}),
      });
    }
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const ents = this.log.slice(pr.next, this.log.lastIndex() + 1, this.maxBytesPerMessage);
    if (prevTerm === undefined || ents === undefined) {
      if (!this.snapshot) throw new RaftInvariantError(`log compacted below ${pr.next} without a snapshot`);
      pr.becomeSnapshot(this.snapshot);
      this.sendSnapshotChunk(to);
      return true;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'app', to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed });
    pr.sentEntries(ents[ents.length - 1]?.index ?? 0);
    return true;
  }

  private sendSnapshotChunk(to: NodeId): void {
    const pr = this.tracker.progress.get(to);
    const snap = pr?.snapshot;
    if (!pr || !snap) return;
    const total = snap.data.length;
    const offset = Math.min(pr.snapshotOffset, total);
    if (offset >= total && total > 0) return;
    const end = Math.min(total, offset + this.maxBytesPerMessage);
    pr.snapshotStall = 0;
    this.send({
      type: 'snap',
      to,
      snapshot: { metadata: snap.metadata, offset, totalBytes: total, data: snap.data.subarray(offset, end) },
    });
  }

  /** Chunks or acks were lost: resend from what the follower acknowledged. */
  private resumeSnapshot(to: NodeId): void {
    const pr = this.tracker.progress.get(to);
    if (!pr) return;
    const total = pr.snapshot?.data.length ?? 0;
    if (total > 0 && pr.snapshotOffset >= total) {
      // Every chunk landed but the final ack was lost: probe, the follower tells us where it is.
      pr.becomeProbe();
      this.sendAppend(to);
    } else this.sendSnapshotChunk(to);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', to });
  }

  private leaderTransfer(transferee: NodeId): void {
    const pr = this.tracker.progress.get(transferee);
    if (!pr || pr.isLearner) return;
    if (this.leadTransferee === transferee) return;
    this.leadTransferee = null;
    if (transferee === this.id) return;
    this.leadTransferee = transferee;
    this.electionElapsed = 0;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee);
  }

  private leaderReadIndex(m: Message): void {
    const context = m.context ?? new Uint8Array();
    if (this.tracker.voters.size === 1 && this.tracker.voters.has(this.id)) {
      this.answerRead({ index: this.log.committed, context, from: m.from });
      return;
    }
    // Until an entry of our term commits, our commit index may lag what an earlier leader committed.
    if (this.log.term(this.log.committed) !== this.term) return this.drop(m, 'not-leader-yet-committed');
    this.readOnly.add({ index: this.log.committed, context, from: m.from, acks: new Set([this.id]) });
    this.bcastHeartbeat(context);
  }

  private ackRead(context: Uint8Array, from: NodeId): void {
    const quorum = this.tracker.quorum();
    const done = this.readOnly.ack(context, from, (acks) => this.tracker.countIn(acks) >= quorum);
    for (const read of done) this.answerRead(read);
  }

  private answerRead(read: { index: number; context: Uint8Array; from: NodeId }): void {
    if (read.from === this.id) this.readStates.push({ index: read.index, context: read.context });
    else this.send({ type: 'readIndexResp', to: read.from, index: read.index, context: read.context });
  }

  // ---- follower: receiving the log ----

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.send({ type: 'appResp', to: m.from, index: this.log.committed });
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send({ type: 'appResp', to: m.from, index: lastNew });
      return;
    }
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send({ type: 'appResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  private handleHeartbeat(m: Message): void {
    // The door refused a commit past our log; the clamp keeps that true whatever path led here.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'heartbeatResp', to: m.from, ...(m.context ? { context: m.context } : {}) });
  }

  private handleSnapshotChunk(m: Message): void {
    const chunk = m.snapshot;
    if (!chunk) return;
    const outcome = this.receiver.accept(chunk);
    if (outcome.kind !== 'complete') {
      this.send({ type: 'snapResp', to: m.from, index: chunk.metadata.index, rejectHint: outcome.received, reject: outcome.kind === 'mismatch' });
      return;
    }
    const snap = outcome.snapshot;
    if (this.restore(snap)) {
      this.send({ type: 'appResp', to: m.from, index: this.log.lastIndex() });
    } else {
      this.send({ type: 'appResp', to: m.from, index: this.log.committed });
    }
  }

  /** Returns false when the snapshot is not ahead of what we already have. */
  private restore(snap: Snapshot): boolean {
    const meta = snap.metadata;
    if (meta.index <= this.log.committed) return false;
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already hold that prefix: just learn that it is committed.
      this.log.commitTo(meta.index);
      return false;
    }
    this.log.restoreSnapshot(meta);
    this.pendingSnapshot = snap;
    this.snapshot = snap;
    this.confHistory = [];
    this.setConf(meta.confState, meta.index);
    return true;
  }

  // ---- membership ----

  private confStateAt(index: number): ConfState {
    for (let i = this.confHistory.length - 1; i >= 0; i--) {
      const c = this.confHistory[i];
      if (c && c.index <= index) return c.confState;
    }
    return this.confHistory[0]?.confState ?? { voters: [], learners: [] };
  }

  private setConf(cs: ConfState, atIndex: number): void {
    const before = [...this.tracker.voters, ...this.tracker.learners];
    this.tracker.setConf(cs, this.log.lastIndex() + 1);
    for (const id of before) if (!this.tracker.isMember(id)) this.removed.add(id);
    for (const id of [...this.tracker.voters, ...this.tracker.learners]) this.removed.delete(id);
    const confState = this.tracker.confState();
    const last = this.confHistory[this.confHistory.length - 1];
    if (last && last.index === atIndex) last.confState = confState;
    else this.confHistory.push({ index: atIndex, confState });
  }

  private applyConfChangeEntry(e: Entry): void {
    const data = decodeConfChangeEntry(e.data);
    const next = data.kind === 'bootstrap' ? data.confState : applyConfChangeTo(this.tracker.confState(), data.change);
    this.setConf(next, e.index);
    if (this.state !== 'leader') return;
    if (!this.tracker.voters.has(this.id)) {
      this.stepDownAfterRemoval();
      return;
    }
    if (this.leadTransferee !== null && !this.tracker.voters.has(this.leadTransferee)) this.leadTransferee = null;
    // A smaller quorum may already hold more entries.
    this.maybeCommit();
    this.bcastAppend();
  }

  /** A leader no longer in the voters hands over to the most caught-up voter, then steps down. */
  private stepDownAfterRemoval(): void {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const id of this.tracker.voters) {
      const m = this.tracker.progress.get(id)?.match ?? 0;
      if (m > bestMatch) {
        best = id;
        bestMatch = m;
      }
    }
    // Tell everyone about the commit first, so the successor has applied the removal when it campaigns.
    this.bcastAppend();
    if (best !== null && bestMatch === this.log.lastIndex()) this.sendTimeoutNow(best);
    this.becomeFollower(this.term, null);
  }

  private send(fields: Omit<MessageFields, 'from'> & { from?: NodeId }): void {
    const m = newMessage({ from: this.id, ...fields });
    const needsExplicitTerm = m.type === 'vote' || m.type === 'preVote' || m.type === 'voteResp' || m.type === 'preVoteResp';
    const forwarded = m.type === 'prop' || m.type === 'readIndex' || m.type === 'transferLeader';
    if (needsExplicitTerm) {
      if (m.term === 0) throw new RaftInvariantError(`${m.type} needs a term`);
      this.msgs.push(m);
    } else {
      this.msgs.push({ ...m, term: forwarded ? 0 : this.term });
    }
  }
}

/** Inputs this node steps itself: timers and control, and requests that may also be forwarded. */
function isLocalInput(type: Message['type']): boolean {
  return isLocalMessage(type) || type === 'prop' || type === 'readIndex' || type === 'transferLeader';
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

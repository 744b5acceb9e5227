// The host of one Raft member: drives the deterministic core (electron/raft/core) with a clock, durable
// storage, a transport and a state machine. It uses only the core's public API (core/index.ts).
//
// Per Ready, in this order (the core's Ready contract; see README "Storage and host"):
//   1. persist snapshot, entries and hard state with ONE fsync (DiskStorage.save)
//   2. only then send the Ready's messages (persist-before-send: a vote or an append ack vouches for durable state)
//   3. restore the snapshot, apply committed entries in order, answer proposals and reads
//   4. advance()
// Proposals made while a Ready is being handled are batched into one proposal message, so one fsync covers many.

import { randomBytes } from 'node:crypto';
import {
  decodeConfChangeEntry,
  newMessage,
  ProposalDroppedError,
  RaftCore,
  type ConfChange,
  type IngressBounds,
  type Message,
  type RaftStatus,
  type Ready,
  type Role,
} from './core/index.js';
import { campaignSchedule, DEFAULT_SILENCE_OPTIONS, SilenceDetector } from './silence.js';
import type { PayloadCipher } from './storage/cipher.js';
import { DiskStorage, type LoadedState } from './storage/disk-storage.js';
import { silentLogger, type RaftLogger, type StorageRepair } from './storage/logger.js';
import type { ConfState, Entry, HardState, NodeId } from './types.js';

/** The replicated state machine. apply() must be deterministic: every member applies the same entries in order. */
export interface StateMachine<R = unknown> {
  /** Applies one committed entry (its `data` is what was proposed) and returns the proposer's result. */
  apply(entry: Entry): R | Promise<R>;
  /** An image of the state after the last applied entry. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replaces the state with a snapshot image (on start, or when the leader sends one). */
  restore(data: Uint8Array): void | Promise<void>;
}

/** Delivers a message to another member; best effort (Raft tolerates loss, duplication and reordering). */
export interface RaftTransport {
  send(to: NodeId, message: Message): void;
}

export interface RaftNodeOptions<R> {
  readonly id: NodeId;
  readonly dataDir: string;
  readonly stateMachine: StateMachine<R>;
  readonly transport: RaftTransport;
  /** Founding membership of a new cluster; used only when `dataDir` holds no Raft state yet. */
  readonly bootstrap?: ConfState;
  /** Milliseconds per Raft tick. Default 100. */
  readonly tickMs?: number;
  /** Election timeout in ticks, randomized in [n, 2n). Default 10. */
  readonly electionTick?: number;
  /** Default 1. */
  readonly heartbeatTick?: number;
  readonly maxBytesPerMessage?: number;
  readonly maxInflightMessages?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** Size limits on one message from another node; larger ones are dropped and counted (see RaftConfig). */
  readonly ingressBounds?: Partial<IngressBounds>;
  /**
   * The host's word about a sender outside this node's Raft configuration: true admits its messages (it holds a
   * manager certificate, say, for a member this node has not learned about yet). Members and removed nodes are
   * never asked about. See RaftConfig.admitNonMember.
   */
  readonly admitNonMember?: (id: NodeId) => boolean;
  /** A proposal not applied within this time is rejected with ProposalTimeoutError. Default 5000. */
  readonly proposalTimeoutMs?: number;
  /** A readIndex() not answered within this time is rejected. Default 5000. */
  readonly readTimeoutMs?: number;
  /** Take a snapshot (and compact) after this many applied entries; 0 disables. Default 10000. */
  readonly snapshotEntries?: number;
  /** Entries kept in memory behind a snapshot so slightly lagging followers need no snapshot. Default 1000. */
  readonly catchUpEntries?: number;
  /**
   * Write and fsync a Ready whose only durable change is the commit index. Default false: such a hard state
   * is carried by the next write instead (the core's mustSync: commit can be relearned from the leader, while
   * term, vote and entries always get their fsync before the Ready's messages go out). Saves one fsync per
   * commit round on the leader.
   */
  readonly fsyncCommitOnly?: boolean;
  /** WAL segment size. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Encryption at rest of entry and snapshot data (see storage/cipher.ts); absent: clear. */
  readonly cipher?: PayloadCipher;
  readonly logger?: RaftLogger;
  /** Randomness for election timeouts. Default Math.random. */
  readonly random?: () => number;
  /**
   * Fast failover on a silent leader (README "Failover without a reset"): a follower that hears nothing from
   * its leader — no Raft message, and per `transportHeardAt` no byte on any connection — for longer than the
   * detector's adaptive threshold forgets it and the surviving voters campaign in node-ID order. PreVote and the
   * leader lease still decide: a follower that alone lost its leader cannot depose it. Off unless given.
   */
  readonly leaderSilence?: LeaderSilenceOptions;
  /**
   * When the transport last received anything from `peer` (Date.now() ms), if it has a live connection: PINGs
   * answered by a leader whose Raft heartbeats wait behind a slow fsync still show that it is alive.
   */
  readonly transportHeardAt?: (peer: NodeId) => number | undefined;
}

export interface LeaderSilenceOptions {
  /** Leader heartbeats in a row a follower may miss: the floor of the threshold. Default 4. */
  readonly missedHeartbeats?: number;
  /** The threshold's ceiling. Default: the election timeout (electionTick × tickMs). */
  readonly maxSilenceMs?: number;
  /** How often the follower looks. Default tickMs / 2. */
  readonly checkMs?: number;
  /** Between successive survivors' campaigns. Default tickMs. */
  readonly staggerMs?: number;
}

export interface RaftNodeStatus extends RaftStatus {
  /** Index of the newest snapshot this node holds (0 = none). */
  readonly snapshotIndex: number;
  readonly pendingProposals: number;
  readonly pendingReads: number;
  /** Readies handled, storage writes (each one fsync) and entries persisted since start. */
  readonly counters: { readonly readies: number; readonly saves: number; readonly entriesSaved: number };
  /** Why the node stopped itself (see the 'fatal' event), or null while it has not failed. */
  readonly failure: RaftNodeFailure | null;
}

/**
 * Why a node stopped itself. Everything it acknowledged is on disk: a failed write is cut back or left as a torn
 * tail that the next open repairs, and a failed snapshot leaves the previous one in place.
 */
export interface RaftNodeFailure {
  /** 'storage': the WAL or a snapshot could not be written or synced; 'core': an invariant of our own state broke. */
  readonly source: 'storage' | 'core';
  /** The errno code of a storage error (ENOSPC, EDQUOT, EIO, …), else the error's name. */
  readonly code: string;
  readonly message: string;
  /**
   * The cause may pass (a full disk or quota: free space): opening the node again with RaftNode.start on the same
   * directory is then the way back, with nothing acknowledged lost.
   */
  readonly retryable: boolean;
  /** When it failed (ISO 8601). */
  readonly at: string;
}

/** errno codes of storage failures that go away on their own or by freeing space. */
const RETRYABLE_STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT']);

export interface RaftNodeEvents {
  leaderChanged: [leader: NodeId | null, term: number];
  roleChanged: [role: Role];
  confChanged: [confState: ConfState];
  /**
   * Storage failed or an invariant broke: the node has stopped itself (status().failure says the same). On a
   * retryable failure (a full disk), a host waits for the cause to go and starts a new node on the same directory.
   */
  fatal: [error: Error, failure: RaftNodeFailure];
}

export class RaftNodeStoppedError extends Error {
  readonly code = 'RAFT_NODE_STOPPED';
  constructor(id: NodeId) {
    super(`raft node ${id} is stopped`);
    this.name = 'RaftNodeStoppedError';
  }
}

/** The outcome is unknown: the entry may still commit later. Callers must make proposals idempotent or check. */
/** The leader changed while a proposal was in flight: it may or may not still be applied. */
export class ProposalLeaderLostError extends Error {
  readonly code = 'RAFT_LEADER_LOST';
  constructor(what: string) {
    super(`raft: the leader changed while the ${what} was in flight; it may still take effect later`);
    this.name = 'ProposalLeaderLostError';
  }
}

export class ProposalTimeoutError extends Error {
  readonly code = 'RAFT_PROPOSAL_TIMEOUT';
  constructor(what: string, ms: number) {
    super(`raft: ${what} not completed within ${ms} ms; it may still take effect later`);
    this.name = 'ProposalTimeoutError';
  }
}

type Listener<A extends unknown[]> = (...args: A) => void;

/** A small typed event emitter; a throwing listener is logged and does not disturb the node. */
class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners = new Map<keyof E, Set<Listener<never[]>>>();

  constructor(private readonly onListenerError: (event: keyof E, err: unknown) => void) {}

  /** Returns a function that removes the listener. */
  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as unknown as Listener<never[]>);
    return () => this.off(event, fn);
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): void {
    this.listeners.get(event)?.delete(fn as unknown as Listener<never[]>);
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      try {
        (fn as unknown as Listener<E[K]>)(...args);
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
  }
}

// Proposal envelope: [0xE1][instance nonce 8 bytes][sequence u64][payload]. The nonce is random per RaftNode
// instance, so an entry proposed before a restart can never be mistaken for a new proposal with the same sequence.
const ENVELOPE = 0xe1;
const ENVELOPE_BYTES = 17;
const TWO_32 = 0x1_0000_0000;

interface PendingProposal<R> {
  readonly kind: 'normal' | 'confChange';
  readonly resolve: (value: R | ConfState) => void;
  readonly reject: (err: Error) => void;
  readonly deadline: number;
  readonly timeoutMs: number;
}

interface PendingRead {
  readonly resolve: (index: number) => void;
  readonly reject: (err: Error) => void;
  readonly deadline: number;
  readonly timeoutMs: number;
}

interface ReadBatch {
  readonly waiters: PendingRead[];
  /** Set once the ReadState arrives: the reads complete when applied >= index. */
  index: number | null;
  /** Tick at which the request went out; unanswered for `readRetryTicks`, it is asked again (it may be lost). */
  readonly issuedAtTick: number;
}

function isEnvelope(buf: Uint8Array): boolean {
  return buf.byteLength >= ENVELOPE_BYTES && buf[0] === ENVELOPE;
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

export class RaftNode<R = unknown> {
  readonly id: NodeId;
  /** What opening the storage repaired (torn WAL tail, corrupt snapshot set aside, stale lock). */
  readonly repairs: readonly StorageRepair[];

  private readonly core: RaftCore;
  private readonly storage: DiskStorage;
  private readonly sm: StateMachine<R>;
  private readonly transport: RaftTransport;
  private readonly logger: RaftLogger;
  private readonly events: TypedEmitter<RaftNodeEvents>;
  private readonly tickMs: number;
  private readonly proposalTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly snapshotEntries: number;
  private readonly catchUpEntries: number;
  private readonly fsyncCommitOnly: boolean;
  /** A commit-only hard state not yet written; it rides along with the next write (or is flushed by stop()). */
  private deferredHardState: HardState | null = null;

  private readonly nonce = randomBytes(8);
  private readonly nonceHi: number;
  private readonly nonceLo: number;
  private seq = 0;
  private readonly proposals = new Map<number, PendingProposal<R>>();
  private queuedEntries: Entry[] = [];
  private queuedSeqs: number[] = [];
  private readonly reads: PendingRead[] = [];
  /** Set when the leader cannot serve reads yet (no entry of its term committed): retry on the next tick. */
  private readsDeferred = false;
  private readonly readBatches = new Map<number, ReadBatch>();
  private readonly readRetryTicks: number;
  private ticks = 0;
  private readonly leaderWaiters = new Set<{ to: NodeId; resolve: () => void; reject: (e: Error) => void; deadline: number; timeoutMs: number }>();

  private leader: NodeId | null = null;
  private role: Role = 'follower';
  private appliedIndex: number;
  private snapshotIndex: number;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private silenceTicker: ReturnType<typeof setInterval> | null = null;
  private readonly silence: SilenceDetector | null;
  private readonly silenceCheckMs: number;
  private readonly staggerMs: number;
  private readonly transportHeardAt: ((peer: NodeId) => number | undefined) | undefined;
  private lastSilenceCheckMs = Date.now();
  /** After the leader was lost: when this node campaigns next, until a leader is known. */
  private failover: { lost: NodeId; nextCampaignMs: number; retryEveryMs: number } | null = null;
  private scheduled = false;
  private draining: Promise<void> | null = null;
  private stopped = false;
  private lastFailure: RaftNodeFailure | null = null;
  /** Errors that came out of a storage call, so that a failure is blamed on the right part. */
  private readonly storageErrors = new WeakSet<object>();
  private stopping: Promise<void> | null = null;
  private readonly counters = { readies: 0, saves: 0, entriesSaved: 0 };

  private constructor(options: RaftNodeOptions<R>, storage: DiskStorage, state: LoadedState) {
    this.id = options.id;
    this.storage = storage;
    this.repairs = state.repairs;
    this.sm = options.stateMachine;
    this.transport = options.transport;
    this.logger = options.logger ?? silentLogger;
    this.tickMs = options.tickMs ?? 100;
    this.proposalTimeoutMs = options.proposalTimeoutMs ?? 5000;
    this.readTimeoutMs = options.readTimeoutMs ?? 5000;
    this.snapshotEntries = options.snapshotEntries ?? 10_000;
    this.catchUpEntries = options.catchUpEntries ?? 1000;
    this.fsyncCommitOnly = options.fsyncCommitOnly ?? false;
    const electionTimeoutMs = this.tickMs * (options.electionTick ?? 10);
    const heartbeatMs = this.tickMs * (options.heartbeatTick ?? 1);
    const silenceOptions = options.leaderSilence;
    this.silence = silenceOptions === undefined
      ? null
      : new SilenceDetector({
          ...DEFAULT_SILENCE_OPTIONS,
          heartbeatMs,
          ...(silenceOptions.missedHeartbeats !== undefined ? { missedHeartbeats: silenceOptions.missedHeartbeats } : {}),
          maxSilenceMs: silenceOptions.maxSilenceMs ?? electionTimeoutMs,
        });
    this.silenceCheckMs = Math.max(5, silenceOptions?.checkMs ?? Math.floor(this.tickMs / 2));
    this.staggerMs = silenceOptions?.staggerMs ?? this.tickMs;
    this.transportHeardAt = options.transportHeardAt;
    // A forwarded ReadIndex is dropped silently by a leader that cannot serve it yet, or lost on the way.
    this.readRetryTicks = Math.max(3, Math.floor((options.electionTick ?? 10) / 2));
    this.nonceHi = this.nonce.readUInt32LE(0);
    this.nonceLo = this.nonce.readUInt32LE(4);
    this.events = new TypedEmitter<RaftNodeEvents>((event, err) =>
      this.logger('error', 'a raft node event listener threw', { event: String(event), error: String(err) }),
    );

    const hasState = state.hardState.term > 0 || state.snapshot !== null || state.entries.length > 0;
    this.core = new RaftCore({
      id: options.id,
      ...(hasState
        ? { restore: { hardState: state.hardState, snapshot: state.snapshot, entries: state.entries } }
        : options.bootstrap
          ? { bootstrap: options.bootstrap }
          : {}),
      ...(options.electionTick !== undefined ? { electionTick: options.electionTick } : {}),
      ...(options.heartbeatTick !== undefined ? { heartbeatTick: options.heartbeatTick } : {}),
      ...(options.maxBytesPerMessage !== undefined ? { maxBytesPerMessage: options.maxBytesPerMessage } : {}),
      ...(options.maxInflightMessages !== undefined ? { maxInflightMessages: options.maxInflightMessages } : {}),
      ...(options.preVote !== undefined ? { preVote: options.preVote } : {}),
      ...(options.checkQuorum !== undefined ? { checkQuorum: options.checkQuorum } : {}),
      ...(options.ingressBounds !== undefined ? { ingressBounds: options.ingressBounds } : {}),
      ...(options.admitNonMember !== undefined ? { admitNonMember: options.admitNonMember } : {}),
      random: options.random ?? Math.random,
    });
    this.snapshotIndex = state.snapshot?.metadata.index ?? 0;
    this.appliedIndex = this.snapshotIndex;
  }

  /**
   * Opens (locks, loads, repairs) the data directory, restores the state machine from the newest snapshot and starts
   * ticking. Committed entries after the snapshot are re-applied through the normal Ready path.
   */
  static async start<R>(options: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    const logger = options.logger ?? silentLogger;
    const { storage, state } = await DiskStorage.open(options.dataDir, {
      ...(options.segmentBytes !== undefined ? { segmentBytes: options.segmentBytes } : {}),
      ...(options.cipher ? { cipher: options.cipher } : {}),
      logger,
    });
    try {
      if (state.snapshot) await options.stateMachine.restore(state.snapshot.data);
      const node = new RaftNode(options, storage, state);
      node.ticker = setInterval(() => node.onTick(), node.tickMs);
      if (node.silence !== null) node.silenceTicker = setInterval(() => node.onSilenceCheck(), node.silenceCheckMs);
      node.schedule();
      logger('info', 'raft node started', { id: options.id, term: state.hardState.term, snapshotIndex: node.snapshotIndex });
      return node;
    } catch (err) {
      await storage.close();
      throw err;
    }
  }

  on<K extends keyof RaftNodeEvents>(event: K, listener: Listener<RaftNodeEvents[K]>): () => void {
    return this.events.on(event, listener);
  }

  off<K extends keyof RaftNodeEvents>(event: K, listener: Listener<RaftNodeEvents[K]>): void {
    this.events.off(event, listener);
  }

  /**
   * Feeds a message from another node, as decoded off the wire. The core checks it at its door: a malformed or
   * impossible message, or one from a non-member, is dropped and counted in status().droppedMessages; it never
   * stops the node.
   */
  receive(message: Message): void {
    if (this.stopped) return;
    // Only the leader's rhythm is learned: a follower talks to us only in elections, and the gap between two of
    // its messages says nothing about how regularly a leader is heard.
    if (this.silence !== null && message?.from === this.leader) this.silence.heard(message.from, Date.now());
    try {
      this.core.step(message);
    } catch (err) {
      if (err instanceof ProposalDroppedError) return;
      this.fail(err);
      return;
    }
    this.schedule();
  }

  /**
   * Proposes `data`; resolves with the state machine's apply() result once the entry is committed and applied
   * here. Rejects within one turn of the event loop with ProposalDroppedError when no leader is known, with ProposalTimeoutError after
   * `timeoutMs` (outcome unknown), or with RaftNodeStoppedError.
   */
  propose(data: Uint8Array, options: { timeoutMs?: number } = {}): Promise<R> {
    if (this.stopped) return Promise.reject(new RaftNodeStoppedError(this.id));
    const seq = ++this.seq;
    const wrapped = new Uint8Array(ENVELOPE_BYTES + data.byteLength);
    this.writeEnvelope(wrapped, seq);
    wrapped.set(data, ENVELOPE_BYTES);
    const timeoutMs = options.timeoutMs ?? this.proposalTimeoutMs;
    return new Promise<R>((resolve, reject) => {
      this.proposals.set(seq, {
        kind: 'normal',
        resolve: resolve as (v: R | ConfState) => void,
        reject,
        deadline: Date.now() + timeoutMs,
        timeoutMs,
      });
      this.queuedEntries.push({ term: 0, index: 0, type: 'normal', data: wrapped });
      this.queuedSeqs.push(seq);
      this.schedule();
    });
  }

  /** Proposes a membership change; resolves with the membership after it has been applied here. */
  proposeConfChange(change: ConfChange, options: { timeoutMs?: number } = {}): Promise<ConfState> {
    if (this.stopped) return Promise.reject(new RaftNodeStoppedError(this.id));
    const seq = ++this.seq;
    const context = new Uint8Array(ENVELOPE_BYTES + (change.context?.byteLength ?? 0));
    this.writeEnvelope(context, seq);
    if (change.context) context.set(change.context, ENVELOPE_BYTES);
    const timeoutMs = options.timeoutMs ?? this.proposalTimeoutMs;
    return new Promise<ConfState>((resolve, reject) => {
      try {
        this.core.proposeConfChange({ ...change, context });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.proposals.set(seq, {
        kind: 'confChange',
        resolve: resolve as (v: R | ConfState) => void,
        reject,
        deadline: Date.now() + timeoutMs,
        timeoutMs,
      });
      this.schedule();
    });
  }

  /**
   * Asks the leader to hand leadership to `to`; resolves when this node sees `to` as leader.
   * Rejects at once when no leader is known, or after `timeoutMs` (default: the proposal timeout).
   */
  transferLeadership(to: NodeId, options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) return Promise.reject(new RaftNodeStoppedError(this.id));
    if (this.leader === to) return Promise.resolve();
    try {
      this.core.transferLeadership(to);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.schedule();
    const timeoutMs = options.timeoutMs ?? this.proposalTimeoutMs;
    return new Promise((resolve, reject) => {
      this.leaderWaiters.add({ to, resolve, reject, deadline: Date.now() + timeoutMs, timeoutMs });
    });
  }

  /**
   * A linearizable read point: resolves with an index once this node has applied at least up to it, after the
   * leader confirmed (with a quorum) that it was still leader. Read the state machine right after it resolves.
   * Reads issued together share one round trip.
   */
  readIndex(options: { timeoutMs?: number } = {}): Promise<number> {
    if (this.stopped) return Promise.reject(new RaftNodeStoppedError(this.id));
    const timeoutMs = options.timeoutMs ?? this.readTimeoutMs;
    return new Promise((resolve, reject) => {
      this.reads.push({ resolve, reject, deadline: Date.now() + timeoutMs, timeoutMs });
      this.schedule();
    });
  }

  /** The transport saw the leader's connection reset: stop trusting it (see RaftCore.forgetLeader). */
  forgetLeader(): void {
    if (this.stopped) return;
    this.core.forgetLeader();
    this.schedule();
  }

  /**
   * The leader `peer` is gone as far as this node can tell (its connection was reset, or it fell silent): forget
   * it, so that this node grants pre-votes, and campaign on the survivors' schedule (campaignSchedule). Nothing
   * happens unless `peer` is this node's leader.
   */
  leaderLost(peer: NodeId, why: string): void {
    if (this.stopped) return;
    const status = this.core.status();
    // The core's view, not this.leader: that one follows Readies, which may wait behind a slow fsync.
    if (status.leader !== peer || status.role !== 'follower') return;
    this.logger('info', 'raft leader lost', { id: this.id, leader: peer, why });
    this.core.forgetLeader();
    this.schedule();
    const plan = campaignSchedule(this.id, status.confState.voters, peer, this.staggerMs);
    if (plan === undefined) return;
    const now = Date.now();
    this.failover = { lost: peer, nextCampaignMs: now + plan.firstAfterMs, retryEveryMs: plan.retryEveryMs };
    this.failoverStep(now);
  }

  /** Campaign now instead of waiting for the election timeout. */
  campaign(): void {
    if (this.stopped) return;
    this.core.campaign();
    this.schedule();
  }

  status(): RaftNodeStatus {
    return {
      ...this.core.status(),
      snapshotIndex: this.snapshotIndex,
      pendingProposals: this.proposals.size,
      pendingReads: this.reads.length + [...this.readBatches.values()].reduce((n, b) => n + b.waiters.length, 0),
      counters: { ...this.counters },
      failure: this.lastFailure,
    };
  }

  /** Why the node stopped itself, or null (see RaftNodeFailure). */
  get failure(): RaftNodeFailure | null {
    return this.lastFailure;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Stops ticking, finishes the Ready in progress, rejects what is pending and closes the storage. Idempotent. */
  /**
   * Rewrites everything on disk with the cipher's current key (after the host rotated its data key), between
   * two saves; the cipher must still open the previous key's data until this resolves.
   */
  resealStorage(): Promise<void> {
    return this.storage.reseal();
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    if (this.silenceTicker) clearInterval(this.silenceTicker);
    this.silenceTicker = null;
    this.stopping = (async () => {
      await this.draining?.catch(() => undefined);
      this.rejectAll(new RaftNodeStoppedError(this.id));
      if (this.deferredHardState && this.lastFailure === null) {
        await this.storage.save(this.deferredHardState, []).catch((err: unknown) =>
          this.logger('warn', 'could not persist the last commit index on stop', { error: String(err) }),
        );
      }
      await this.storage.close();
      this.logger('info', 'raft node stopped', { id: this.id });
    })();
    return this.stopping;
  }

  // ---- the loop ----

  private onTick(): void {
    if (this.stopped) return;
    try {
      this.core.tick();
    } catch (err) {
      this.fail(err);
      return;
    }
    this.ticks++;
    this.readsDeferred = false;
    this.expire(Date.now());
    this.schedule();
  }

  /** Is the leader silent? And, after it was lost, is it this node's turn to campaign? */
  private onSilenceCheck(): void {
    if (this.stopped || this.silence === null) return;
    const now = Date.now();
    // A late check means our own event loop stalled: the leader's messages may be waiting unread in our
    // socket buffers. Judge only after they had their turn: setImmediate runs after the loop's I/O poll.
    const stalled = now - this.lastSilenceCheckMs > 3 * this.silenceCheckMs;
    this.lastSilenceCheckMs = now;
    this.failoverStep(now);
    if (stalled) setImmediate(() => this.judgeLeaderSilence());
    else this.judgeLeaderSilence();
  }

  private judgeLeaderSilence(): void {
    const silence = this.silence;
    const leader = this.leader;
    if (this.stopped || silence === null || leader === null || leader === this.id || this.role !== 'follower' || this.failover?.lost === leader) return;
    const now = Date.now();
    const heardAt = this.transportHeardAt?.(leader);
    if (heardAt !== undefined) silence.heard(leader, heardAt);
    if (!silence.isSilent(leader, now)) return;
    this.leaderLost(leader, `silent for ${silence.silentForMs(leader, now)} ms (threshold ${silence.thresholdMs(leader, now)} ms)`);
  }

  private failoverStep(now: number): void {
    const failover = this.failover;
    if (failover === null) return;
    if (now < failover.nextCampaignMs) return;
    const { leader, role } = this.core.status();
    if (leader !== null) {
      this.failover = null;
      return;
    }
    failover.nextCampaignMs = now + failover.retryEveryMs;
    // A candidate's election is under way: let it finish rather than start over with a pre-vote.
    if (role === 'candidate') return;
    this.campaign();
  }

  /** setImmediate, not a microtask: lets I/O callbacks (messages, more proposals) land first, making bigger batches. */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.draining || this.stopped) return;
      this.draining = this.drain().finally(() => {
        this.draining = null;
        if (this.needsWork()) this.schedule();
      });
    });
  }

  private needsWork(): boolean {
    return (
      !this.stopped &&
      (this.core.hasReady() || this.queuedEntries.length > 0 || (this.reads.length > 0 && !this.readsDeferred))
    );
  }

  private async drain(): Promise<void> {
    try {
      this.flushQueued();
      while (!this.stopped && this.core.hasReady()) {
        const rd = this.core.ready();
        const applied = await this.handleReady(rd);
        this.core.advance();
        this.afterAdvance(applied);
        await this.maybeSnapshot();
        this.flushQueued();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Hands queued proposals to the core as ONE proposal message, and queued reads as one ReadIndex request. */
  private flushQueued(): void {
    if (this.queuedEntries.length > 0) {
      const entries = this.queuedEntries;
      const seqs = this.queuedSeqs;
      this.queuedEntries = [];
      this.queuedSeqs = [];
      try {
        this.core.step(newMessage({ type: 'prop', from: this.id, entries }));
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) throw err;
        for (const seq of seqs) {
          const p = this.proposals.get(seq);
          this.proposals.delete(seq);
          p?.reject(err);
        }
      }
    }
    if (this.reads.length > 0 && !this.readsDeferred) {
      const seq = ++this.seq;
      const context = new Uint8Array(ENVELOPE_BYTES);
      this.writeEnvelope(context, seq);
      const waiters = this.reads.splice(0);
      try {
        this.core.readIndex(context);
        this.readBatches.set(seq, { waiters, index: null, issuedAtTick: this.ticks });
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) throw err;
        if (err.reason === 'not-leader-yet-committed') {
          // A new leader must commit an entry of its term first; that takes one round trip. Retry on the next tick.
          this.reads.push(...waiters);
          this.readsDeferred = true;
        } else {
          for (const w of waiters) w.reject(err);
        }
      }
    }
  }

  /**
   * Steps 1-3 of the Ready contract. Returns whether membership may have changed (a conf change entry or a
   * snapshot was applied) and the sequences of our own conf change proposals among them.
   */
  private async handleReady(rd: Ready): Promise<{ membership: boolean; ourConfChanges: number[] }> {
    this.counters.readies++;
    if (rd.softState) this.onSoftState(rd.softState.leader, rd.softState.role);

    // 1. Persist before anything leaves this node.
    const hardState = rd.hardState ?? this.deferredHardState;
    if (rd.snapshot || rd.entries.length > 0 || (hardState && (rd.mustSync || this.fsyncCommitOnly))) {
      await this.inStorageCall(() => this.storage.save(hardState, rd.entries, rd.snapshot ?? null));
      this.deferredHardState = null;
      this.counters.saves++;
      this.counters.entriesSaved += rd.entries.length;
    } else if (rd.hardState) {
      this.deferredHardState = rd.hardState;
    }
    // 2. Send.
    for (const m of rd.messages) {
      try {
        this.transport.send(m.to, m);
      } catch (err) {
        this.logger('warn', 'transport failed to send a raft message', { to: m.to, type: m.type, error: String(err) });
      }
    }
    // 3. Apply.
    if (rd.snapshot) {
      await this.sm.restore(rd.snapshot.data);
      this.appliedIndex = rd.snapshot.metadata.index;
      this.snapshotIndex = Math.max(this.snapshotIndex, rd.snapshot.metadata.index);
      this.logger('info', 'installed a snapshot from the leader', { index: rd.snapshot.metadata.index });
    }
    const ourConfChanges: number[] = [];
    let membership = rd.snapshot !== undefined;
    for (const e of rd.committedEntries) {
      if (e.index <= this.appliedIndex) continue;
      if (e.type === 'confChange') {
        membership = true;
        const decoded = decodeConfChangeEntry(e.data);
        const seq = decoded.kind === 'change' && decoded.change.context ? this.ourSeq(decoded.change.context) : null;
        if (seq !== null) ourConfChanges.push(seq);
      } else if (e.data.byteLength > 0) {
        await this.applyNormal(e);
      }
      // Empty normal entries are the no-ops new leaders append (§5.4.2); the state machine never sees them.
      this.appliedIndex = e.index;
    }
    for (const rs of rd.readStates) {
      const seq = this.ourSeq(rs.context);
      const batch = seq === null ? undefined : this.readBatches.get(seq);
      if (batch) batch.index = rs.index;
    }
    this.completeReads();
    return { membership, ourConfChanges };
  }

  private async applyNormal(e: Entry): Promise<void> {
    const seq = this.ourSeq(e.data);
    const data = isEnvelope(e.data) ? e.data.subarray(ENVELOPE_BYTES) : e.data;
    const entry: Entry = { index: e.index, term: e.term, type: 'normal', data };
    let result: R;
    try {
      const r = this.sm.apply(entry);
      result = isThenable(r) ? await r : r;
    } catch (err) {
      // apply() must be deterministic, so every member threw the same way: report it to the proposer only.
      this.logger('error', 'state machine apply threw', { index: e.index, error: String(err) });
      const p = seq === null ? undefined : this.proposals.get(seq);
      if (p && seq !== null) {
        this.proposals.delete(seq);
        p.reject(err instanceof Error ? err : new Error(String(err)));
      }
      return;
    }
    if (seq === null) return;
    const p = this.proposals.get(seq);
    if (p) {
      this.proposals.delete(seq);
      p.resolve(result);
    }
  }

  /** The core applies conf changes in advance(): only now does its status show the new membership. */
  private afterAdvance(applied: { membership: boolean; ourConfChanges: number[] }): void {
    if (!applied.membership) return;
    const confState = this.core.status().confState;
    for (const seq of applied.ourConfChanges) {
      const p = this.proposals.get(seq);
      if (p) {
        this.proposals.delete(seq);
        p.resolve(confState);
      }
    }
    this.events.emit('confChanged', confState);
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.snapshotEntries <= 0 || this.appliedIndex - this.snapshotIndex < this.snapshotEntries) return;
    const index = this.appliedIndex;
    const data = await this.sm.snapshot();
    const snapshot = this.core.createSnapshot(index, data);
    await this.inStorageCall(() => this.storage.saveSnapshot(snapshot));
    this.snapshotIndex = index;
    const compactTo = index - this.catchUpEntries;
    if (compactTo >= this.core.status().firstIndex) this.core.compact(compactTo);
    this.logger('info', 'took a snapshot', { index, bytes: data.byteLength });
  }

  private rejectInFlight(): void {
    for (const [seq, p] of this.proposals) {
      this.proposals.delete(seq);
      p.reject(new ProposalLeaderLostError(p.kind === 'confChange' ? 'membership change' : 'proposal'));
    }
  }

  private onSoftState(leader: NodeId | null, role: Role): void {
    const previousLeader = this.leader;
    const leaderChanged = leader !== this.leader;
    const roleChanged = role !== this.role;
    this.leader = leader;
    this.role = role;
    if (leaderChanged) {
      this.logger('info', 'raft leader changed', { id: this.id, leader, term: this.core.status().term });
      // A new reign starts with a clean slate: it is heard from now, and no gap from before it counts.
      if (leader !== null && this.silence !== null) {
        this.silence.forget(leader);
        this.silence.heard(leader, Date.now());
      }
      // What was in flight through the old leader may be lost with it: say so now rather than at
      // the timeout, so callers can retry against the new leader within the failover time.
      if (previousLeader !== null && previousLeader !== this.id) this.rejectInFlight();
      this.events.emit('leaderChanged', leader, this.core.status().term);
      for (const w of [...this.leaderWaiters]) {
        if (w.to === leader) {
          this.leaderWaiters.delete(w);
          w.resolve();
        }
      }
    }
    if (roleChanged) this.events.emit('roleChanged', role);
  }

  private completeReads(): void {
    for (const [seq, batch] of this.readBatches) {
      if (batch.index === null || batch.index > this.appliedIndex) continue;
      this.readBatches.delete(seq);
      for (const w of batch.waiters) w.resolve(batch.index);
    }
  }

  /** Rejects what has outlived its deadline. Runs every tick, so expiry is accurate to a tick. */
  private expire(now: number): void {
    for (const [seq, p] of this.proposals) {
      if (p.deadline > now) continue;
      this.proposals.delete(seq);
      p.reject(new ProposalTimeoutError(p.kind === 'confChange' ? 'membership change' : 'proposal', p.timeoutMs));
    }
    const expiredRead = (r: PendingRead): boolean => {
      if (r.deadline > now) return false;
      r.reject(new ProposalTimeoutError('read', r.timeoutMs));
      return true;
    };
    for (let i = this.reads.length - 1; i >= 0; i--) if (expiredRead(this.reads[i]!)) this.reads.splice(i, 1);
    for (const [seq, batch] of this.readBatches) {
      const kept = batch.waiters.filter((w) => !expiredRead(w));
      if (kept.length === 0) this.readBatches.delete(seq);
      else if (batch.index === null && this.ticks - batch.issuedAtTick >= this.readRetryTicks) {
        // Unanswered: ask again under a new context (the old answer, if it ever comes, is ignored).
        this.readBatches.delete(seq);
        this.reads.push(...kept);
      } else if (kept.length !== batch.waiters.length) this.readBatches.set(seq, { ...batch, waiters: kept });
    }
    for (const w of [...this.leaderWaiters]) {
      if (w.deadline > now) continue;
      this.leaderWaiters.delete(w);
      w.reject(new ProposalTimeoutError(`leadership transfer to ${w.to}`, w.timeoutMs));
    }
  }

  private rejectAll(err: Error): void {
    for (const p of this.proposals.values()) p.reject(err);
    this.proposals.clear();
    this.queuedEntries = [];
    this.queuedSeqs = [];
    for (const r of this.reads.splice(0)) r.reject(err);
    for (const b of this.readBatches.values()) for (const w of b.waiters) w.reject(err);
    this.readBatches.clear();
    for (const w of this.leaderWaiters) w.reject(err);
    this.leaderWaiters.clear();
  }

  private async inStorageCall(op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      if (typeof err === 'object' && err !== null) this.storageErrors.add(err);
      throw err;
    }
  }

  /** Storage failed or the core broke an invariant: continuing could lose or fork committed data. Stop. */
  private fail(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.stopped) return;
    const errno = (error as NodeJS.ErrnoException).code;
    const source = this.storageErrors.has(error) || typeof errno === 'string' ? 'storage' : 'core';
    const code = typeof errno === 'string' ? errno : error.name;
    this.lastFailure = {
      source,
      code,
      message: error.message,
      retryable: source === 'storage' && RETRYABLE_STORAGE_CODES.has(code),
      at: new Date().toISOString(),
    };
    this.logger('error', 'raft node failed and is stopping', { id: this.id, source, code, error: error.message });
    this.events.emit('fatal', error, this.lastFailure);
    void this.stop().catch(() => undefined);
  }

  // ---- envelope ----

  private writeEnvelope(buf: Uint8Array, seq: number): void {
    buf[0] = ENVELOPE;
    buf.set(this.nonce, 1);
    const view = new DataView(buf.buffer, buf.byteOffset, ENVELOPE_BYTES);
    view.setUint32(9, seq >>> 0, true);
    view.setUint32(13, Math.floor(seq / TWO_32), true);
  }

  /** The sequence number if `buf` starts with an envelope made by this instance, else null. */
  private ourSeq(buf: Uint8Array): number | null {
    if (!isEnvelope(buf)) return null;
    const view = new DataView(buf.buffer, buf.byteOffset, ENVELOPE_BYTES);
    if (view.getUint32(1, true) !== this.nonceHi || view.getUint32(5, true) !== this.nonceLo) return null;
    return view.getUint32(9, true) + view.getUint32(13, true) * TWO_32;
  }
}

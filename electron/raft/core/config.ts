import type { ConfState, Entry, HardState, NodeId, Snapshot } from '../types.js';
import type { IngressBounds } from './ingress.js';

/**
 * Deliberate bugs for the simulation's "the checks bite" tests. Never set outside tests:
 * each one breaks a safety argument of the paper.
 */
export interface UnsafeKnobs {
  /** Commit an entry of an earlier term by counting replicas (the Figure 8 bug, §5.4.2). */
  readonly commitPreviousTermByCounting?: boolean;
  /** Report `vote: null` in hardState, so a restart forgets whom it voted for (§5.2). */
  readonly forgetVote?: boolean;
  /** Accept AppendEntries from a leader of an older term (§5.1). */
  readonly acceptStaleTermAppend?: boolean;
  /** Grant votes without the log up-to-date check (§5.4.1). */
  readonly skipLogUpToDateCheck?: boolean;
}

/** State loaded from durable storage on restart. */
export interface RestoredState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Entries after the snapshot, contiguous. */
  readonly entries: readonly Entry[];
}

export interface RaftConfig {
  readonly id: NodeId;
  /**
   * A founding member of a new cluster: the core writes this membership as entry 1
   * (term 1, committed) so nodes that join later learn it from the log.
   * A joining node passes neither `bootstrap` nor `restore` and waits for a leader.
   */
  readonly bootstrap?: ConfState;
  readonly restore?: RestoredState;
  /** The host state machine's applied index on restart (default: the snapshot's index). */
  readonly applied?: number;
  /** Ticks without hearing from a leader before campaigning; randomized in [n, 2n). Default 10. */
  readonly electionTick?: number;
  /** Ticks between leader heartbeats. Default 1. */
  readonly heartbeatTick?: number;
  /** Upper bound on entry bytes per append and on a snapshot chunk. Default 1 MiB. */
  readonly maxBytesPerMessage?: number;
  /** Appends in flight per follower while replicating. Default 256. */
  readonly maxInflightMessages?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** Size limits on one message from another node (default DEFAULT_INGRESS_BOUNDS); larger ones are dropped. */
  readonly ingressBounds?: Partial<IngressBounds>;
  /**
   * Asked about a sender outside this node's configuration (never about members or removed nodes): true admits
   * its messages. A host that authenticates its peers can vouch for members this node has not learned about yet:
   * a node that lags behind a membership change hears from a leader added after its log ends, and a joining node
   * hears from a leader before it knows any member. Without it, only a node that is not in its own configuration
   * (a joining one) accepts a leader's messages from outside it, and nothing else from a stranger is stepped.
   */
  readonly admitNonMember?: (id: NodeId) => boolean;
  /** Uniform in [0, 1); seeded in tests. The only source of randomness in the core. */
  readonly random: () => number;
  readonly unsafe?: UnsafeKnobs;
}

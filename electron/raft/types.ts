// Durable data types shared by the Raft core and its storage.
// The core (core/) and the storage (storage/) both depend on this file and on nothing else of each other.

/** A Raft member's identity. Skep uses the swarm node ID (a base36 string). */
export type NodeId = string;

export type EntryType = 'normal' | 'confChange';

/** One log entry. `data` is opaque to Raft except for confChange entries (see core's ConfChange codec). */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * The paper's persistent state (Figure 2): currentTerm and votedFor, plus the commit index
 * (persisting commit lets a restarted node re-apply without waiting for a leader).
 */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

/** Membership as of some log position. Learners receive the log but never vote or count toward quorum. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  /** Index and term of the last entry the snapshot covers. */
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** A state-machine image at `metadata.index`. `data` is opaque to Raft. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 });

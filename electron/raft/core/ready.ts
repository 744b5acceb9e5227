import type { Entry, HardState, NodeId, Snapshot } from '../types.js';
import type { Message } from './messages.js';

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader' | 'learner';

/** Volatile state worth showing; never persisted. */
export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: Role;
}

/** A ReadIndex answer: once the host has applied up to `index`, a read with `context` is linearizable. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * What the core wants done, taken with `RaftCore.ready()` and acknowledged with `advance()`.
 *
 * The host MUST, in this order:
 * 1. persist `snapshot` (if any), then `entries` (overwriting any existing entries from
 *    entries[0].index on: a follower may replace a conflicting suffix), then `hardState`
 *    — fsynced when `mustSync` is true;
 * 2. only then send `messages` (a vote or an append ack vouches for state that must
 *    survive a crash: persist-before-send);
 * 3. apply `snapshot` and then `committedEntries` to the state machine in order
 *    (confChange entries need no host action: the core applies them on advance);
 * 4. call `advance()` before the next `ready()`.
 * A `readStates` item is served once the state machine has applied up to its index.
 */
export interface Ready {
  /** Present only when leader or role changed since the previous Ready. */
  readonly softState?: SoftState;
  /** Present only when term, vote or commit changed since the previous Ready. */
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  readonly mustSync: boolean;
}

/**
 * Whether a Ready's writes must be fsynced before its messages go out. The paper's
 * persistent state (Figure 2) is currentTerm, votedFor and log[]; losing any of them
 * after telling a peer about them can elect two leaders or lose committed entries.
 * Commit is persisted for faster restarts but can be relearned, so it alone needs no sync.
 */
export function mustSync(prev: HardState, next: HardState, entryCount: number): boolean {
  return entryCount > 0 || prev.term !== next.term || prev.vote !== next.vote;
}

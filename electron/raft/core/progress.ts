import type { Snapshot } from '../types.js';

/**
 * How the leader is sending to one follower (etcd's tracker.Progress):
 * - probe: one append in flight until the follower answers; finds where logs match.
 * - replicate: pipelined appends, bounded by the inflight window.
 * - snapshot: the follower needs a snapshot; chunks go out one at a time.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded window of the last index of each append in flight. */
export class Inflights {
  private readonly lastIndexes: number[] = [];
  constructor(readonly capacity: number) {}
  get count(): number {
    return this.lastIndexes.length;
  }
  full(): boolean {
    return this.lastIndexes.length >= this.capacity;
  }
  add(lastIndex: number): void {
    this.lastIndexes.push(lastIndex);
  }
  /** The follower acknowledged up to index: everything up to it has landed. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.lastIndexes.length && (this.lastIndexes[n] ?? Infinity) <= index) n++;
    this.lastIndexes.splice(0, n);
  }
  freeFirstOne(): void {
    this.lastIndexes.shift();
  }
  reset(): void {
    this.lastIndexes.length = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe: an append is out and unanswered, so don't send another. */
  probeSent = false;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  readonly inflights: Inflights;
  /** In snapshot state: the snapshot being sent and how many bytes the follower holds. */
  snapshot: Snapshot | undefined;
  snapshotOffset = 0;
  /** Heartbeat rounds since the last chunk went out; a lost chunk is resent after a few. */
  snapshotStall = 0;

  constructor(next: number, maxInflight: number, public isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.state = state;
    this.inflights.reset();
    this.snapshot = undefined;
    this.snapshotOffset = 0;
    this.snapshotStall = 0;
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.snapshot?.metadata.index ?? 0;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshot: Snapshot): void {
    this.resetState('snapshot');
    this.snapshot = snapshot;
  }

  /** An ack for index n arrived. Returns whether match moved. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * A rejection of the append after `rejected`. matchHint is the highest index that may match.
   * Returns false for a stale rejection (one that no longer tells us anything).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  /** Record an append carrying entries up to lastIndex (0 when empty). */
  sentEntries(lastIndex: number): void {
    if (this.state === 'replicate' && lastIndex > 0) {
      this.next = lastIndex + 1;
      this.inflights.add(lastIndex);
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }
}

import type { Entry, SnapshotMetadata } from '../types.js';
import { RaftInvariantError } from './errors.js';
import { entryBytes } from './messages.js';

/**
 * The in-memory log: entries after the compaction point, plus the indexes that
 * matter to the paper (commit) and to the host (stabled: durable; applied: handed to
 * the state machine and advanced).
 *
 * Invariant: compactedIndex <= applied <= committed <= lastIndex, and stabled <= lastIndex.
 */
export class RaftLog {
  /** Index and term of the last entry folded into a snapshot; entries start after it. */
  compactedIndex = 0;
  compactedTerm = 0;
  private entries: Entry[] = [];
  committed = 0;
  applied = 0;
  /** Entries up to here are durable on the host; later ones are in the next Ready. */
  stabled = 0;

  static restore(compactedIndex: number, compactedTerm: number, entries: readonly Entry[]): RaftLog {
    const log = new RaftLog();
    log.compactedIndex = compactedIndex;
    log.compactedTerm = compactedTerm;
    log.entries = entries.filter((e) => e.index > compactedIndex);
    for (let i = 0; i < log.entries.length; i++) {
      if (log.entries[i]?.index !== compactedIndex + 1 + i) throw new RaftInvariantError('restored entries are not contiguous');
    }
    log.stabled = log.lastIndex();
    log.committed = compactedIndex;
    log.applied = compactedIndex;
    return log;
  }

  firstIndex(): number {
    return this.compactedIndex + 1;
  }

  lastIndex(): number {
    return this.compactedIndex + this.entries.length;
  }

  /** Term at index, or undefined when compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.compactedIndex) return this.compactedTerm;
    if (index < this.compactedIndex) return undefined;
    return this.entries[index - this.compactedIndex - 1]?.term;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.compactedIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, hi), at least one when available, then stopping before maxBytes. Undefined if compacted. */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] | undefined {
    if (lo <= this.compactedIndex) return undefined;
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi && i <= this.lastIndex(); i++) {
      const e = this.entry(i);
      if (!e) break;
      bytes += entryBytes(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  unstableEntries(): Entry[] {
    return this.slice(this.stabled + 1, this.lastIndex() + 1) ?? [];
  }

  /** Appends, truncating any conflicting suffix first. The host overwrites from entries[0].index. */
  append(ents: readonly Entry[]): void {
    const first = ents[0];
    if (!first) return;
    if (first.index <= this.committed) {
      throw new RaftInvariantError(`append at ${first.index} would overwrite committed ${this.committed}`);
    }
    if (first.index > this.lastIndex() + 1) throw new RaftInvariantError(`append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    this.entries.length = first.index - this.compactedIndex - 1;
    this.entries.push(...ents);
    if (this.stabled >= first.index) this.stabled = first.index - 1;
  }

  /** First index whose term differs from ours (new entries count as conflicts), or 0 if all match. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /**
   * The largest index <= index whose term is <= term. A follower and a leader each
   * use it to jump over a whole term of mismatching entries in one round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = Math.min(index, this.lastIndex()); i >= this.compactedIndex; i--) {
      const t = this.term(i);
      if (t === undefined) break;
      if (t <= term) return { index: i, term: t };
    }
    return { index: this.compactedIndex, term: this.compactedTerm };
  }

  /** The paper's AppendEntries receiver steps 2–5. Returns the last new index, or undefined on mismatch. */
  maybeAppend(index: number, logTerm: number, commit: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) this.append(ents.slice(conflict - index - 1));
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** Commit only moves forward. */
  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) throw new RaftInvariantError(`commit ${index} is beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index <= this.applied) return;
    if (index > this.committed) throw new RaftInvariantError(`applied ${index} beyond commit ${this.committed}`);
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    if (index > this.stabled && this.matchTerm(index, term)) this.stabled = index;
  }

  /** Replace the whole log by a snapshot that is ahead of it. */
  restoreSnapshot(meta: SnapshotMetadata): void {
    this.entries = [];
    this.compactedIndex = meta.index;
    this.compactedTerm = meta.term;
    this.committed = meta.index;
    this.stabled = meta.index;
  }

  /** Drop entries up to index (which the host's snapshot covers). */
  compact(index: number): void {
    if (index <= this.compactedIndex) return;
    if (index > this.applied) throw new RaftInvariantError(`compact ${index} beyond applied ${this.applied}`);
    const term = this.term(index);
    if (term === undefined) throw new RaftInvariantError(`compact ${index}: no such entry`);
    this.entries = this.entries.slice(index - this.compactedIndex);
    this.compactedIndex = index;
    this.compactedTerm = term;
  }
}

import type { Entry, HardState, Snapshot } from '../../electron/raft/types.js';
import { EMPTY_HARD_STATE } from '../../electron/raft/types.js';

/**
 * What a disk keeps across a crash. Writes that the host did not fsync (a Ready with
 * mustSync false only changes commit) sit in a page cache that a crash may lose.
 */
export class SimStorage {
  private hard: HardState = EMPTY_HARD_STATE;
  private unsyncedHard: HardState | null = null;
  private snap: Snapshot | null = null;
  private entries: Entry[] = [];

  saveSnapshot(s: Snapshot): void {
    if (this.snap && this.snap.metadata.index >= s.metadata.index) return;
    this.snap = s;
    const keep = this.entries.filter((e) => e.index > s.metadata.index);
    const first = keep[0];
    // Entries after the snapshot survive only if they extend it contiguously with matching history.
    const snapTermMatches = this.entries.some((e) => e.index === s.metadata.index && e.term === s.metadata.term);
    this.entries = first && snapTermMatches ? keep : [];
  }

  /** Appends, overwriting from ents[0].index; returns the entries that were replaced by different ones. */
  append(ents: readonly Entry[]): Entry[] {
    const first = ents[0];
    if (!first) return [];
    const base = this.snap?.metadata.index ?? 0;
    const lastIndex = base + this.entries.length;
    if (first.index > lastIndex + 1) throw new Error(`sim storage: gap: append ${first.index} after ${lastIndex}`);
    const cut = Math.max(0, first.index - base - 1);
    const replaced = this.entries.slice(cut);
    this.entries.length = cut;
    this.entries.push(...ents);
    return replaced.filter((old) => ents[old.index - first.index]?.term !== old.term);
  }

  setHardState(hs: HardState, sync: boolean): void {
    if (sync) {
      this.hard = hs;
      this.unsyncedHard = null;
    } else this.unsyncedHard = hs;
  }

  /** An fsync of anything else also flushes the page cache. */
  sync(): void {
    if (this.unsyncedHard) this.hard = this.unsyncedHard;
    this.unsyncedHard = null;
  }

  /** A crash: the page cache may or may not have reached the disk. */
  crash(lostUnsynced: boolean): void {
    if (!lostUnsynced) this.sync();
    this.unsyncedHard = null;
  }

  compact(index: number): void {
    const base = this.snap?.metadata.index ?? 0;
    if (index > base) throw new Error('sim storage: compact beyond snapshot');
    this.entries = this.entries.filter((e) => e.index > (this.snap?.metadata.index ?? 0));
  }

  load(): { hardState: HardState; snapshot: Snapshot | null; entries: Entry[] } {
    return { hardState: this.unsyncedHard ?? this.hard, snapshot: this.snap, entries: [...this.entries] };
  }

  isEmpty(): boolean {
    return this.hard.term === 0 && this.entries.length === 0 && this.snap === null && this.unsyncedHard === null;
  }
}

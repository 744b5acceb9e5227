import type { Snapshot, SnapshotMetadata } from '../types.js';
import type { SnapshotChunk } from './messages.js';

export type ChunkOutcome =
  | { readonly kind: 'complete'; readonly snapshot: Snapshot }
  | { readonly kind: 'partial'; readonly received: number }
  /** Out of order or for another snapshot: the leader should resume from `received`. */
  | { readonly kind: 'mismatch'; readonly received: number };

function sameSnapshot(a: SnapshotMetadata, b: SnapshotMetadata): boolean {
  return a.index === b.index && a.term === b.term;
}

/** Reassembles a snapshot sent in chunks. Volatile: a crash restarts the transfer from offset 0. */
export class SnapshotReceiver {
  private metadata: SnapshotMetadata | undefined;
  private parts: Uint8Array[] = [];
  private received = 0;

  accept(chunk: SnapshotChunk): ChunkOutcome {
    const fresh = !this.metadata || !sameSnapshot(this.metadata, chunk.metadata);
    if (chunk.offset === 0 && (fresh || this.received === 0)) {
      this.metadata = chunk.metadata;
      this.parts = [];
      this.received = 0;
    }
    const meta = this.metadata;
    if (!meta || !sameSnapshot(meta, chunk.metadata)) return { kind: 'mismatch', received: 0 };
    if (chunk.offset !== this.received) return { kind: 'mismatch', received: this.received };
    this.parts.push(chunk.data);
    this.received += chunk.data.length;
    if (this.received < chunk.totalBytes) return { kind: 'partial', received: this.received };
    const data = new Uint8Array(this.received);
    let at = 0;
    for (const p of this.parts) {
      data.set(p, at);
      at += p.length;
    }
    this.reset();
    return { kind: 'complete', snapshot: { metadata: meta, data } };
  }

  reset(): void {
    this.metadata = undefined;
    this.parts = [];
    this.received = 0;
  }
}

// Segmented write-ahead log. See electron/raft/README.md, "Storage and host", for the format and recovery rules.

import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { EMPTY_HARD_STATE, type Entry, type HardState } from '../types.js';
import {
  checkFrame,
  decodePayload,
  encodeBatch,
  encodeSegmentHeader,
  RecordDecodeError,
  WAL_VERSION,
  type SnapshotMarker,
  type WalRecord,
} from './codec.js';
import { DataKeyMissingError, SealedPayloadError, type PayloadCipher } from './cipher.js';
import { StorageClosedError, StorageInconsistencyError, WalCorruptionError } from './errors.js';
import { ensurePrivateDir, FILE_MODE, fsyncDir, isErrno, writeAll, writeAllSync } from './fsutil.js';
import { silentLogger, type RaftLogger, type StorageRepair } from './logger.js';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const SEGMENT_NAME = /^([0-9a-f]{16})\.wal$/;

export interface WalOptions {
  /** A segment that has grown to this size is closed and a new one started (a single save is never split). */
  readonly segmentBytes?: number;
  readonly logger?: RaftLogger;
  /** Seals each entry's data on write and opens it on replay (encryption at rest); absent: clear. */
  readonly cipher?: PayloadCipher;
}

/** What the log says after replaying every segment in order. */
export interface WalReplay {
  readonly hardState: HardState;
  /** The log as replayed: contiguous, ascending, later writes having replaced conflicting suffixes. May start anywhere. */
  readonly entries: Entry[];
  /** The last snapshot marker seen, if any. */
  readonly marker: SnapshotMarker | null;
  /** True when the WAL did not exist and was created by this open. */
  readonly created: boolean;
  /** With a cipher: some entries are in clear or sealed with an older key (`Wal.rewrite` reseals them). */
  readonly stale: boolean;
  readonly repairs: StorageRepair[];
}

export interface SegmentInfo {
  readonly seq: number;
  readonly file: string;
  readonly bytes: number;
  /** Highest entry index ever written to this segment; -1 when it holds no entries. */
  readonly maxIndex: number;
}

interface Segment {
  seq: number;
  file: string;
  bytes: number;
  maxIndex: number;
}

function segmentName(seq: number): string {
  return `${seq.toString(16).padStart(16, '0')}.wal`;
}

/** Rebuilds the log from records in the order they were written. */
class LogReplayer {
  entries: Entry[] = [];
  hardState: HardState = EMPTY_HARD_STATE;
  marker: SnapshotMarker | null = null;

  apply(rec: WalRecord & { kind: 'batch' }, file: string, offset: number): void {
    // Order within a save: a snapshot replaces the log, then entries follow it, then the hard state that may commit them.
    if (rec.marker) this.applyMarker(rec.marker);
    if (rec.entries.length > 0) this.applyEntries(rec.entries, file, offset);
    if (rec.hardState) this.hardState = rec.hardState;
  }

  private applyMarker(m: SnapshotMarker): void {
    this.marker = m;
    const first = this.entries[0]?.index;
    if (first === undefined || m.index < first) return;
    const at = this.entries[m.index - first];
    // The log agrees with the snapshot: keep it (entries up to the snapshot may still serve an older snapshot).
    // Otherwise the node installed a snapshot that replaced its whole log.
    if (at === undefined || at.term !== m.term) this.entries = [];
  }

  private applyEntries(batch: Entry[], file: string, offset: number): void {
    const f = batch[0]!.index;
    const first = this.entries[0]?.index;
    if (first === undefined || f <= first) {
      this.entries = batch;
      return;
    }
    const last = first + this.entries.length - 1;
    if (f > last + 1) {
      throw new WalCorruptionError(file, offset, `entries start at index ${f} but the log before them ends at ${last}`);
    }
    // A later entry at index f replaces everything from f on (a follower's conflicting tail).
    if (f <= last) this.entries.length = f - first;
    for (const e of batch) this.entries.push(e);
  }
}

/**
 * Returns true when some CRC-valid frame starts anywhere in buf[from, end). Used to tell a torn tail (nothing valid
 * after the damage) from damage in the middle of the log (valid, once-synced records after it).
 */
function validFrameAfter(buf: Buffer, from: number): boolean {
  for (let off = from; off + 8 < buf.length; off++) {
    const len = buf.readUInt32LE(off);
    if (len === 0 || len > buf.length - off - 8) continue;
    if (checkFrame(buf, off).ok) return true;
  }
  return false;
}

export class Wal {
  private closed = false;
  private failed: Error | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private hardState: HardState;
  private marker: SnapshotMarker | null;
  /** Upper bound of the log's last index (null: empty, anything may start it). Catches gaps at write time. */
  private lastIndex: number | null;

  private constructor(
    readonly dir: string,
    private readonly segments: Segment[],
    private fh: FileHandle,
    private readonly segmentBytes: number,
    private readonly logger: RaftLogger,
    private readonly cipher: PayloadCipher | undefined,
    replay: WalReplay,
  ) {
    this.hardState = replay.hardState;
    this.marker = replay.marker;
    this.lastIndex = replay.entries[replay.entries.length - 1]?.index ?? replay.marker?.index ?? null;
  }

  /** True when `dir` holds at least one WAL segment. */
  static async exists(dir: string): Promise<boolean> {
    try {
      return (await fs.readdir(dir)).some((n) => SEGMENT_NAME.test(n));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  /** Opens (creating if absent) the WAL in `dir`, replays it, repairs a torn tail, and readies it for appends. */
  static async open(dir: string, options: WalOptions = {}): Promise<{ wal: Wal; replay: WalReplay }> {
    const logger = options.logger ?? silentLogger;
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const repairs: StorageRepair[] = [];
    await ensurePrivateDir(dir);

    const segments: Segment[] = [];
    let removedTemp = false;
    for (const name of await fs.readdir(dir)) {
      const m = SEGMENT_NAME.exec(name);
      if (m) {
        segments.push({ seq: parseInt(m[1]!, 16), file: path.join(dir, name), bytes: 0, maxIndex: -1 });
      } else if (name.endsWith('.tmp')) {
        // A segment being created when the process died; it was never renamed into the log.
        await fs.rm(path.join(dir, name), { force: true });
        removedTemp = true;
        const repair: StorageRepair = { kind: 'temp-file-removed', file: path.join(dir, name), reason: 'unfinished segment creation' };
        repairs.push(repair);
        logger('warn', 'removed an unfinished WAL segment', { ...repair });
      }
    }
    if (removedTemp) await fsyncDir(dir);
    segments.sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < segments.length; i++) {
      if (segments[i]!.seq !== segments[i - 1]!.seq + 1) {
        throw new StorageInconsistencyError(dir, `WAL segment ${segmentName(segments[i - 1]!.seq + 1)} is missing`);
      }
    }

    const created = segments.length === 0;
    if (created) {
      await Wal.createSegment(dir, 1, [encodeSegmentHeader(1)]);
      segments.push({ seq: 1, file: path.join(dir, segmentName(1)), bytes: 0, maxIndex: -1 });
    }

    const replayer = new LogReplayer();
    let stale = false;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const isLast = i === segments.length - 1;
      const buf = await fs.readFile(seg.file);
      let off = 0;
      while (off < buf.length) {
        const frame = checkFrame(buf, off);
        if (!frame.ok) {
          if (!isLast || off === 0 || validFrameAfter(buf, off + 1)) {
            throw new WalCorruptionError(seg.file, off, frame.reason);
          }
          // Torn tail: the process died during the last save, whose fsync therefore never returned.
          const repair: StorageRepair = {
            kind: 'wal-torn-tail',
            file: seg.file,
            offset: off,
            droppedBytes: buf.length - off,
            reason: frame.reason,
          };
          repairs.push(repair);
          logger('warn', 'truncated a torn record at the end of the WAL', { ...repair });
          const fh = await fs.open(seg.file, 'r+');
          try {
            await fh.truncate(off);
            await fh.sync();
          } finally {
            await fh.close();
          }
          break;
        }
        let rec: WalRecord;
        try {
          rec = decodePayload(buf, frame.payloadStart, frame.payloadEnd, options.cipher);
        } catch (err) {
          if (err instanceof RecordDecodeError) throw new WalCorruptionError(seg.file, off, err.message);
          if (err instanceof SealedPayloadError) throw new DataKeyMissingError(seg.file, `${err.message}, at byte offset ${off}`);
          throw err;
        }
        if (off === 0) {
          if (rec.kind !== 'header') throw new WalCorruptionError(seg.file, off, 'segment does not start with a header');
          if (rec.version !== WAL_VERSION) throw new WalCorruptionError(seg.file, off, `unsupported WAL version ${rec.version}`);
          if (rec.seq !== seg.seq) throw new WalCorruptionError(seg.file, off, `header says segment ${rec.seq}`);
        } else if (rec.kind === 'header') {
          throw new WalCorruptionError(seg.file, off, 'unexpected segment header');
        } else {
          replayer.apply(rec, seg.file, off);
          if (rec.stale) stale = true;
          const lastEntry = rec.entries[rec.entries.length - 1];
          if (lastEntry && lastEntry.index > seg.maxIndex) seg.maxIndex = lastEntry.index;
        }
        off = frame.payloadEnd;
      }
      if (buf.length === 0) throw new WalCorruptionError(seg.file, 0, 'segment is empty (no header)');
      seg.bytes = off;
    }

    const replay: WalReplay = {
      hardState: replayer.hardState,
      entries: replayer.entries,
      marker: replayer.marker,
      created,
      stale,
      repairs,
    };
    const active = segments[segments.length - 1]!;
    const fh = await fs.open(active.file, 'r+');
    return { wal: new Wal(dir, segments, fh, segmentBytes, logger, options.cipher, replay), replay };
  }

  /**
   * Reseals the whole log with `options.cipher`'s current key (migration of a clear log, or a data key
   * rotation): a new segment holding the replayed state in one record is created atomically after the
   * last one, then the older segments are deleted. A crash in between leaves old and new segments, which
   * replay to the same state (the new record replaces the log) — the old key must stay readable until
   * this returns. The WAL must not be open elsewhere in this process.
   */
  static async rewrite(dir: string, options: WalOptions & { readonly cipher: PayloadCipher }): Promise<string[]> {
    const { wal, replay } = await Wal.open(dir, options);
    const old = wal.segments.map((s) => s.file);
    const seq = wal.segments[wal.segments.length - 1]!.seq + 1;
    await wal.close();
    const records: Buffer[] = [encodeSegmentHeader(seq)];
    const hs = replay.hardState;
    const hasHardState = hs.term !== 0 || hs.vote !== null || hs.commit !== 0;
    if (hasHardState || replay.marker || replay.entries.length > 0) {
      records.push(encodeBatch(hasHardState ? hs : null, replay.entries, replay.marker, options.cipher));
    }
    try {
      await Wal.createSegment(dir, seq, records);
    } catch (err) {
      await fs.rm(`${path.join(dir, segmentName(seq))}.tmp`, { force: true }).catch(() => undefined);
      throw err;
    }
    for (const file of old) await fs.rm(file, { force: true });
    await fsyncDir(dir);
    return old;
  }

  /** Creates a complete segment atomically: it appears under its final name only once fsynced. */
  private static async createSegment(dir: string, seq: number, records: readonly Uint8Array[]): Promise<number> {
    const file = path.join(dir, segmentName(seq));
    const tmp = `${file}.tmp`;
    const fh = await fs.open(tmp, 'w', FILE_MODE);
    let bytes: number;
    try {
      bytes = await writeAll(fh, records, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
    await fsyncDir(dir);
    return bytes;
  }

  /**
   * Appends one record holding `marker` (a snapshot was installed at this index/term), then `entries`, then
   * `hardState`, and syncs once. When the promise resolves, all of it survives a crash. Calls are serialized.
   */
  save(hardState: HardState | null, entries: readonly Entry[], marker: SnapshotMarker | null = null): Promise<void> {
    if (hardState === null && entries.length === 0 && marker === null) return Promise.resolve();
    let bound = this.lastIndex;
    if (marker) bound = Math.max(bound ?? 0, marker.index);
    const first = entries[0]?.index;
    if (first !== undefined && bound !== null && first > bound + 1) {
      // Written, this would make the next start fail; refuse now, where the bug is.
      throw new RangeError(`entries to save start at index ${first} but the log ends at ${bound}: that would leave a gap`);
    }
    // Encode now (synchronously) so the caller may reuse its arrays right after the call.
    const frame = encodeBatch(hardState, entries, marker, this.cipher);
    const lastIndex = entries[entries.length - 1]?.index;
    if (lastIndex !== undefined) this.lastIndex = lastIndex;
    else if (marker) this.lastIndex = bound;
    return this.enqueue(async () => {
      const active = this.segments[this.segments.length - 1]!;
      try {
        // A synchronous write only copies into the page cache (microseconds); the fdatasync that follows is what
        // waits for the disk, and it runs off the event loop. This saves a thread-pool round trip per save.
        writeAllSync(this.fh.fd, frame, active.bytes);
        await this.fh.datasync();
      } catch (err) {
        // After a failed write or fsync the file's contents are unknown (see "fsyncgate"): stop accepting writes.
        this.failed = err instanceof Error ? err : new Error(String(err));
        await this.cutUnacknowledgedTail(active);
        throw err;
      }
      active.bytes += frame.length;
      if (lastIndex !== undefined && lastIndex > active.maxIndex) active.maxIndex = lastIndex;
      if (hardState) this.hardState = hardState;
      if (marker) this.marker = marker;
      if (active.bytes >= this.segmentBytes) {
        try {
          await this.rotate();
        } catch (err) {
          // The record is durable but the log cannot go on in a segment of unknown state: the next open sorts it out
          // (an unfinished segment is removed; a finished one begins with the state just written).
          this.failed = err instanceof Error ? err : new Error(String(err));
          throw err;
        }
      }
    });
  }

  /**
   * After a failed save, cuts what it may have left past the last acknowledged record (a partial record written
   * before the disk filled up), so the file ends on a whole record and the space is given back. Best effort:
   * if this fails too, the next open finds a torn tail and repairs it the same way.
   */
  private async cutUnacknowledgedTail(active: Segment): Promise<void> {
    try {
      await this.fh.truncate(active.bytes);
      await this.fh.datasync();
      this.logger('warn', 'a WAL write failed; cut the file back to its last complete record', { file: active.file, bytes: active.bytes });
    } catch (err) {
      this.logger('warn', 'a WAL write failed and the file could not be cut back; the next open repairs its tail', {
        file: active.file,
        error: String(err),
      });
    }
  }

  /** Starts a new segment that begins with the current hard state and snapshot marker, so older ones can be dropped. */
  private async rotate(): Promise<void> {
    const prev = this.segments[this.segments.length - 1]!;
    const seq = prev.seq + 1;
    const records: Buffer[] = [encodeSegmentHeader(seq)];
    const hs = this.hardState;
    const hasHardState = hs.term !== 0 || hs.vote !== null || hs.commit !== 0;
    if (hasHardState || this.marker) records.push(encodeBatch(hasHardState ? hs : null, [], this.marker, this.cipher));
    let bytes: number;
    try {
      bytes = await Wal.createSegment(this.dir, seq, records);
    } catch (err) {
      await fs.rm(`${path.join(this.dir, segmentName(seq))}.tmp`, { force: true }).catch(() => undefined);
      throw err;
    }
    const fh = await fs.open(path.join(this.dir, segmentName(seq)), 'r+');
    await this.fh.close();
    this.fh = fh;
    this.segments.push({ seq, file: path.join(this.dir, segmentName(seq)), bytes, maxIndex: -1 });
    this.logger('debug', 'started a new WAL segment', { seq, previousBytes: prev.bytes });
  }

  /**
   * Drops whole segments (oldest first, never the active one) whose entries all have index <= `index`.
   * Call after a snapshot at or beyond `index` is durable. Returns the removed files.
   */
  compact(index: number): Promise<string[]> {
    return this.enqueue(async () => {
      const removed: string[] = [];
      while (this.segments.length > 1 && this.segments[0]!.maxIndex <= index) {
        const seg = this.segments.shift()!;
        await fs.rm(seg.file, { force: true });
        removed.push(seg.file);
      }
      if (removed.length > 0) {
        await fsyncDir(this.dir);
        this.logger('debug', 'compacted the WAL', { index, removedSegments: removed.length });
      }
      return removed;
    });
  }

  segmentsInfo(): SegmentInfo[] {
    return this.segments.map((s) => ({ ...s }));
  }

  close(): Promise<void> {
    if (this.closed) return this.queue.then(() => undefined);
    this.closed = true;
    const done = this.queue.then(
      () => this.fh.close(),
      () => this.fh.close(),
    );
    this.queue = done.catch(() => undefined);
    return done;
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StorageClosedError(`WAL ${this.dir}`));
    if (this.failed) return Promise.reject(new Error(`WAL ${this.dir} failed earlier and accepts no writes: ${this.failed.message}`));
    const run = this.queue.then(() => {
      if (this.failed) throw new Error(`WAL ${this.dir} failed earlier and accepts no writes: ${this.failed.message}`);
      return op();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

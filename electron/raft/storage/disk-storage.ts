// The durable storage of one Raft node: lock + WAL + snapshots in one data directory.
//
//   <dataDir>/LOCK        pid of the owning process
//   <dataDir>/wal/*.wal   write-ahead log segments
//   <dataDir>/snap/*.snap snapshots (newest two kept)

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EMPTY_HARD_STATE, type Entry, type HardState, type Snapshot } from '../types.js';
import type { PayloadCipher } from './cipher.js';
import { StorageClosedError, StorageInconsistencyError } from './errors.js';
import { ensurePrivateDir } from './fsutil.js';
import { DataDirLock } from './lock.js';
import { silentLogger, type RaftLogger, type StorageRepair } from './logger.js';
import { SnapshotStore } from './snapshots.js';
import { Wal, type SegmentInfo } from './wal.js';

export interface DiskStorageOptions {
  /** WAL segment size before rotation; default 64 MiB. */
  readonly segmentBytes?: number;
  /** Snapshot files kept (min 2). */
  readonly snapshotsToKeep?: number;
  readonly logger?: RaftLogger;
  /**
   * Encryption at rest: seals WAL entry data and snapshot data. At open, anything in clear or under an
   * older key is resealed with the current key (migration, or a rotation interrupted by a crash).
   */
  readonly cipher?: PayloadCipher;
}

/** Everything a restarting node needs, read back from disk. */
export interface LoadedState {
  readonly hardState: HardState;
  /** The newest valid snapshot, or null. */
  readonly snapshot: Snapshot | null;
  /** The log after the snapshot, contiguous from snapshot index + 1 (or from 1 without a snapshot). */
  readonly entries: Entry[];
  /** What startup changed on disk (torn tail truncated, corrupt snapshot set aside, stale lock taken over...). */
  readonly repairs: StorageRepair[];
}

export class DiskStorage {
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Operations waiting in `queue`; while there are none, a plain save may go straight to the (FIFO) WAL. */
  private pending = 0;

  private constructor(
    readonly dataDir: string,
    private readonly lock: DataDirLock,
    private wal: Wal,
    private readonly snapshots: SnapshotStore,
    private readonly logger: RaftLogger,
    private readonly options: DiskStorageOptions,
  ) {}

  /**
   * Locks `dataDir` (DataDirLockedError if another live process has it), then loads and repairs its contents.
   * Throws WalCorruptionError or StorageInconsistencyError rather than start from damaged committed data.
   */
  static async open(dataDir: string, options: DiskStorageOptions = {}): Promise<{ storage: DiskStorage; state: LoadedState }> {
    const logger = options.logger ?? silentLogger;
    const dir = path.resolve(dataDir);
    await ensurePrivateDir(dir);
    const repairs: StorageRepair[] = [];
    const lock = await DataDirLock.acquire(dir, logger, repairs);
    let wal: Wal | null = null;
    try {
      const snapOptions = { keep: options.snapshotsToKeep ?? 2, logger, ...(options.cipher ? { cipher: options.cipher } : {}) };
      const snaps = await SnapshotStore.open(path.join(dir, 'snap'), snapOptions);
      repairs.push(...snaps.repairs);
      const walDir = path.join(dir, 'wal');
      const snapFiles = (await fs.readdir(snaps.store.dir)).filter((n) => /\.snap(\.corrupt)?$/.test(n));
      if (!(await Wal.exists(walDir)) && snapFiles.length > 0) {
        throw new StorageInconsistencyError(dir, 'snapshots exist but the write-ahead log is missing (it holds the term and vote)');
      }
      const walOptions = { segmentBytes: options.segmentBytes, logger, ...(options.cipher ? { cipher: options.cipher } : {}) };
      let opened = await Wal.open(walDir, walOptions);
      if (options.cipher && (opened.replay.stale || snaps.stale)) {
        // Migration of a clear directory (or a key rotation a crash interrupted): reseal it all now.
        await opened.wal.close();
        await snaps.store.reseal();
        const removed = await Wal.rewrite(walDir, { ...walOptions, cipher: options.cipher });
        const repair: StorageRepair = { kind: 'resealed', file: dir, reason: `data in clear or under an older key was sealed with the current data key (${removed.length} WAL segments rewritten)` };
        repairs.push(repair);
        logger('info', 'sealed the Raft data with the current data key', { ...repair });
        const again = await Wal.open(walDir, walOptions);
        opened = { wal: again.wal, replay: { ...again.replay, repairs: opened.replay.repairs } };
      }
      wal = opened.wal;
      const replay = opened.replay;
      repairs.push(...replay.repairs);
      const snapshot = snaps.snapshot;

      let entries = replay.entries;
      const snapIndex = snapshot?.metadata.index ?? 0;
      const first = entries[0]?.index;
      if (first !== undefined) {
        const last = first + entries.length - 1;
        if (first > snapIndex + 1) {
          throw new StorageInconsistencyError(
            dir,
            snapshot
              ? `the WAL starts at index ${first} but the newest readable snapshot ends at index ${snapIndex}`
              : `the WAL starts at index ${first} but there is no readable snapshot`,
          );
        }
        const atSnap = snapshot && snapIndex >= first && snapIndex <= last ? entries[snapIndex - first] : undefined;
        if (atSnap && atSnap.term !== snapshot!.metadata.term) {
          // The snapshot arrived from a leader and replaced a diverging log; the WAL record saying so was never
          // written (crash between the snapshot file and the WAL). The snapshot wins, as it did in memory.
          entries = [];
        } else if (snapIndex >= first) {
          entries = entries.slice(snapIndex - first + 1);
        }
      }
      const lastIndex = entries[entries.length - 1]?.index ?? snapIndex;
      if (replay.marker && replay.marker.index > lastIndex) {
        throw new StorageInconsistencyError(
          dir,
          `the WAL records a snapshot at index ${replay.marker.index}, but the newest readable snapshot and log end at index ${lastIndex}`,
        );
      }
      let hardState = replay.hardState;
      // A snapshot only ever holds committed entries; a crash between writing it and the WAL can leave commit behind.
      if (hardState.commit < snapIndex) hardState = { ...hardState, commit: snapIndex };
      if (hardState.commit > lastIndex) {
        throw new StorageInconsistencyError(dir, `the hard state commits index ${hardState.commit} but the log ends at index ${lastIndex}`);
      }
      if (hardState === EMPTY_HARD_STATE) hardState = { ...EMPTY_HARD_STATE };
      const storage = new DiskStorage(dir, lock, wal, snaps.store, logger, options);
      logger('info', 'opened Raft storage', {
        dataDir: dir,
        term: hardState.term,
        commit: hardState.commit,
        snapshotIndex: snapIndex,
        lastIndex,
        repairs: repairs.length,
      });
      return { storage, state: { hardState, snapshot, entries, repairs } };
    } catch (err) {
      await wal?.close().catch(() => undefined);
      await lock.release().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Persists one ready: `snapshot` (if any) as a file first, then one WAL record with the snapshot marker, `entries`
   * and `hardState`, fsynced once. Resolve means durable: only then may the ready's messages be sent.
   */
  save(hardState: HardState | null, entries: readonly Entry[], snapshot: Snapshot | null = null): Promise<void> {
    if (!snapshot && this.pending === 0) {
      // The WAL encodes synchronously and serializes its own writes; skipping our queue saves a hop per ready.
      this.checkOpen();
      return this.wal.save(hardState, entries, null);
    }
    const copy = entries.slice();
    return this.enqueue(async () => {
      if (!snapshot) return this.wal.save(hardState, copy, null);
      await this.snapshots.save(snapshot);
      await this.wal.save(hardState, copy, { index: snapshot.metadata.index, term: snapshot.metadata.term });
      await this.compactToRetained();
    });
  }

  /** Persists a snapshot the local state machine made, then drops WAL segments no retained snapshot needs. */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.enqueue(async () => {
      await this.snapshots.save(snapshot);
      await this.wal.save(null, [], { index: snapshot.metadata.index, term: snapshot.metadata.term });
      await this.compactToRetained();
    });
  }

  /**
   * Compacts only up to the OLDEST retained snapshot, so that if the newest snapshot file is found damaged at
   * the next start, the older one plus the WAL still reconstruct everything.
   */
  private async compactToRetained(): Promise<void> {
    const kept = await this.snapshots.list();
    const oldest = kept[kept.length - 1];
    if (oldest) await this.wal.compact(oldest.index);
  }

  /**
   * Reseals every snapshot and the whole WAL with the cipher's current key (a data key rotation), between
   * two saves. The cipher must still open the previous key's data until this resolves; after a crash in
   * the middle, the next open finishes the job.
   */
  reseal(): Promise<void> {
    const cipher = this.options.cipher;
    if (!cipher) return Promise.reject(new Error('this storage was opened without a cipher'));
    return this.enqueue(async () => {
      const walDir = this.wal.dir;
      await this.wal.close();
      await this.snapshots.reseal();
      const walOptions = { segmentBytes: this.options.segmentBytes, logger: this.logger, cipher };
      await Wal.rewrite(walDir, walOptions);
      this.wal = (await Wal.open(walDir, walOptions)).wal;
      this.logger('info', 'resealed the Raft data with a new data key', { dataDir: this.dataDir });
    });
  }

  walSegments(): SegmentInfo[] {
    return this.wal.segmentsInfo();
  }

  /** Waits for pending writes, closes the WAL and releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    try {
      await this.wal.close();
    } finally {
      await this.lock.release();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageClosedError(`storage ${this.dataDir}`);
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new StorageClosedError(`storage ${this.dataDir}`));
    this.pending++;
    const run = this.queue.then(op).finally(() => {
      this.pending--;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

// The one logging seam of electron/raft's storage and host: the embedding process injects a callback.
// Library code never prints.

export type RaftLogLevel = 'debug' | 'info' | 'warn' | 'error';

export type RaftLogger = (level: RaftLogLevel, message: string, fields?: Readonly<Record<string, unknown>>) => void;

export const silentLogger: RaftLogger = () => {};

/** Something startup changed on disk to recover from a crash or damage; returned and logged, never silent. */
export interface StorageRepair {
  readonly kind: 'wal-torn-tail' | 'snapshot-corrupt' | 'temp-file-removed' | 'stale-lock-taken-over' | 'resealed';
  readonly file: string;
  /** Byte offset where the WAL was truncated (wal-torn-tail). */
  readonly offset?: number;
  /** Bytes removed from the end of the file (wal-torn-tail). */
  readonly droppedBytes?: number;
  readonly reason: string;
}

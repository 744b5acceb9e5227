// Errors the durable storage raises. Each one says what is wrong and where, so a person can act on it.

/** A record in the write-ahead log is damaged somewhere a crash cannot explain: refusing to start. */
export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      `write-ahead log ${file} is corrupt at byte offset ${offset}: ${reason}. ` +
        'Refusing to start: the damage is not a torn write at the end of the log, so truncating it could lose ' +
        'committed data. Restore the data directory from a backup or remove this manager and re-join it.',
    );
  }
}

/** The WAL and snapshots are individually readable but do not fit together (a gap, a missing snapshot). */
export class StorageInconsistencyError extends Error {
  override readonly name = 'StorageInconsistencyError';
  constructor(
    readonly dataDir: string,
    readonly reason: string,
  ) {
    super(`Raft data in ${dataDir} is inconsistent: ${reason}. Refusing to start.`);
  }
}

/** Another live process holds the data directory's lock file. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `data directory ${dataDir} is in use by another Skep process (pid ${pid}` +
        (pid === process.pid ? ', this very process' : '') +
        ')',
    );
  }
}

/** The storage was used after close(). */
export class StorageClosedError extends Error {
  override readonly name = 'StorageClosedError';
  constructor(what: string) {
    super(`${what} is closed`);
  }
}

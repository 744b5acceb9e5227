// One process per data directory: a lock file created with O_EXCL that holds the owner's pid.
// A lock whose pid is no longer alive (the owner crashed) is taken over.
// Limit: a stale lock whose pid has since been reused by an unrelated live process is reported as held.

import { constants, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { DataDirLockedError } from './errors.js';
import { FILE_MODE, fsyncDir, isErrno } from './fsutil.js';
import { silentLogger, type RaftLogger, type StorageRepair } from './logger.js';

export const LOCK_FILE = 'LOCK';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return isErrno(err, 'EPERM');
  }
  return !isZombie(pid);
}

/**
 * A process killed with SIGKILL whose parent has not reaped it yet still answers kill(pid, 0),
 * but holds nothing any more (its files are closed). Linux shows it as state Z.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name, which may itself contain ") ".
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

async function readPid(file: string): Promise<number | null | 'missing'> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 'missing';
    throw err;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class DataDirLock {
  private released = false;

  private constructor(
    readonly dataDir: string,
    readonly file: string,
  ) {}

  /**
   * Takes the lock or throws DataDirLockedError naming the live holder. `repairs` receives a note when a stale lock
   * (its pid dead) was taken over.
   */
  static async acquire(dataDir: string, logger: RaftLogger = silentLogger, repairs: StorageRepair[] = []): Promise<DataDirLock> {
    const file = path.join(dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const fh = await fs.open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, FILE_MODE);
        try {
          try {
            await fh.writeFile(`${process.pid}\n`);
            await fh.sync();
          } finally {
            await fh.close();
          }
        } catch (err) {
          // A full disk: leave no empty lock behind for the next attempt to puzzle over.
          await fs.rm(file, { force: true }).catch(() => undefined);
          throw err;
        }
        await fsyncDir(dataDir);
        return new DataDirLock(dataDir, file);
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      let holder = await readPid(file);
      // An empty lock file may be a live process between its O_EXCL create and its write: give it a moment.
      for (let i = 0; holder === null && i < 10; i++) {
        await sleep(20);
        holder = await readPid(file);
      }
      if (holder === 'missing') continue;
      if (holder !== null && isProcessAlive(holder)) throw new DataDirLockedError(dataDir, holder);

      // Stale. Move it aside under a unique name first, so that of two processes racing to take it over,
      // the second cannot delete the lock the first has just created.
      const aside = `${file}.stale-${process.pid}-${attempt}`;
      try {
        await fs.rename(file, aside);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw err;
      }
      const moved = await readPid(aside);
      if (moved !== holder && typeof moved === 'number' && isProcessAlive(moved)) {
        // We moved someone's fresh lock: put it back (unless yet another lock appeared) and report it as held.
        await fs.link(aside, file).catch(() => undefined);
        await fs.rm(aside, { force: true });
        throw new DataDirLockedError(dataDir, moved);
      }
      await fs.rm(aside, { force: true });
      const repair: StorageRepair = {
        kind: 'stale-lock-taken-over',
        file,
        reason: holder === null ? 'lock file held no pid' : `process ${holder} that held it is not running`,
      };
      repairs.push(repair);
      logger('warn', 'took over a stale data directory lock', { ...repair });
    }
    throw new Error(`could not take the lock ${file}: it keeps changing`);
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const pid = await readPid(this.file);
    if (pid === process.pid) {
      await fs.rm(this.file, { force: true });
      await fsyncDir(this.dataDir).catch(() => undefined);
    }
  }
}

import { promises as fs, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** fsync a directory so that creates, renames and unlinks inside it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `dir` (and parents) owner-only; an existing directory is tightened to 0700. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
  const st = await fs.stat(dir);
  if ((st.mode & 0o777) !== DIR_MODE) await fs.chmod(dir, DIR_MODE);
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/**
 * Writes `data` to `path` atomically and durably: temp file, fsync, rename, fsync the directory. A write that fails
 * (a full disk) removes its temp file, giving the space back; any file already at `path` is left as it was.
 */
export async function writeFileAtomic(dir: string, name: string, chunks: readonly Uint8Array[]): Promise<void> {
  const final = `${dir}/${name}`;
  const tmp = `${final}.tmp`;
  const fh = await fs.open(tmp, 'w', FILE_MODE);
  try {
    try {
      await writeAll(fh, chunks, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fs.rename(tmp, final);
  await fsyncDir(dir);
}

/** writev until every byte is written at `position` (a single writev may write less, e.g. near a full disk). */
export async function writeAll(fh: FileHandle, chunks: readonly Uint8Array[], position: number): Promise<number> {
  let pending = chunks.filter((c) => c.byteLength > 0);
  let pos = position;
  while (pending.length > 0) {
    const { bytesWritten } = await fh.writev(pending, pos);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    pos += bytesWritten;
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const c of pending) {
      if (skip >= c.byteLength) {
        skip -= c.byteLength;
        continue;
      }
      rest.push(skip > 0 ? c.subarray(skip) : c);
      skip = 0;
    }
    pending = rest;
  }
  return pos - position;
}

/** write(2) until every byte of `buf` is written at `position`. */
export function writeAllSync(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.byteLength) {
    const n = writeSync(fd, buf, done, buf.byteLength - done, position + done);
    if (n <= 0) throw new Error('write made no progress');
    done += n;
  }
}

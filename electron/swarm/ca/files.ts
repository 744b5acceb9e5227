// Key material on disk: files 0600, directories 0700, written atomically (temp file, fsync,
// rename, directory fsync) so a crash never leaves a half-written key behind.
// POSIX modes only: on Windows they are ignored and the profile directory's ACL protects the files.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';

export const SECRET_FILE_MODE = 0o600;
export const SECRET_DIR_MODE = 0o700;

/** Creates dir (and parents) and makes dir itself 0700 even if it already existed. */
export async function ensureSecretDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: SECRET_DIR_MODE });
  if (process.platform !== 'win32') await chmod(dir, SECRET_DIR_MODE);
}

export async function writeSecretFile(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await ensureSecretDir(dir);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  // The mode is set at creation: there is no moment when the file exists with wider permissions.
  const handle = await open(tmp, 'wx', SECRET_FILE_MODE);
  try {
    await handle.writeFile(data);
    // umask may have narrowed the mode further; never wider, but make it exact.
    if (process.platform !== 'win32') await handle.chmod(SECRET_FILE_MODE);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  await fsyncDir(dir);
}

async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiskStorage } from '../../../electron/raft/storage/disk-storage.js';
import { DataDirLockedError } from '../../../electron/raft/storage/errors.js';
import { DataDirLock, LOCK_FILE } from '../../../electron/raft/storage/lock.js';
import type { StorageRepair } from '../../../electron/raft/storage/logger.js';
import { useTempDirs } from './helpers.js';

// Real processes, timers and fsync on a shared 2-core machine: generous, and never a timing assertion.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const tempDir = useTempDirs();
const here = path.dirname(fileURLToPath(import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Spawns a real process that takes the lock; resolves once it holds it. */
function spawnHolder(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'hold-lock.ts'), dir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked')) resolve(child);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`lock holder exited (${code}) before locking: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('data directory lock', () => {
  it('is refused while another live process holds it, naming its pid', async () => {
    const dir = await tempDir();
    const child = await spawnHolder(dir);
    const err = await DiskStorage.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as Error).message).toBe(`data directory ${dir} is in use by another Skep process (pid ${child.pid})`);
    expect((err as DataDirLockedError).pid).toBe(child.pid);

    // A clean exit of the holder releases it.
    child.stdin!.end();
    await exited(child);
    const { storage, state } = await DiskStorage.open(dir);
    expect(state.repairs).toEqual([]);
    await storage.close();
  });

  it('is taken over, and reported, when its holder died without releasing it', async () => {
    const dir = await tempDir();
    const child = await spawnHolder(dir);
    const pid = child.pid!;
    child.kill('SIGKILL');
    await exited(child);
    expect((await fs.readFile(path.join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(pid));

    const { storage, state } = await DiskStorage.open(dir);
    expect(state.repairs).toEqual([
      expect.objectContaining({ kind: 'stale-lock-taken-over', reason: `process ${pid} that held it is not running` }),
    ]);
    expect((await fs.readFile(path.join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await storage.close();
    await expect(fs.access(path.join(dir, LOCK_FILE))).rejects.toThrow();
  });

  it('is refused to a second open in the same process and released by close()', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir);
    await expect(DiskStorage.open(dir)).rejects.toThrow(DataDirLockedError);
    await storage.close();
    const again = await DiskStorage.open(dir);
    await again.storage.close();
  });

  it('treats a lock file with no pid in it (crash right after creating it) as stale', async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, LOCK_FILE), '');
    const repairs: StorageRepair[] = [];
    const lock = await DataDirLock.acquire(dir, undefined, repairs);
    expect(repairs.map((r) => r.kind)).toEqual(['stale-lock-taken-over']);
    await lock.release();
  });
});

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DiskStorage } from '../../../electron/raft/storage/disk-storage.js';
import { useTempDirs } from './helpers.js';

const tempDir = useTempDirs();
const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs the writer until it has acknowledged at least `minAcks` saves, SIGKILLs it, returns the last ack seen. */
function writeThenKill(dir: string, minAcks: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'wal-writer.ts'), dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    let acks = 0;
    let lastAck = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const m = /^acked (\d+)$/.exec(l);
        if (m) {
          lastAck = Number(m[1]);
          if (++acks === minAcks) child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lastAck);
      else reject(new Error(`writer exited ${code}: ${err}`));
    });
  });
}

describe('crash (SIGKILL) of a process writing the WAL', () => {
  it('loses nothing that was acknowledged, across repeated crashes and segment rotations', async () => {
    const dir = await tempDir();
    let acked = 0;
    for (let round = 0; round < 3; round++) {
      acked = Math.max(acked, await writeThenKill(dir, 150 + round * 50));
      const { storage, state } = await DiskStorage.open(dir);
      await storage.close();
      const last = state.entries[state.entries.length - 1]?.index ?? 0;
      expect(last).toBeGreaterThanOrEqual(acked);
      expect(state.entries.every((e, i) => e.index === i + 1)).toBe(true);
      expect(state.hardState.commit).toBeGreaterThanOrEqual(acked);
      expect(state.hardState.vote).toBe('me');
      // The stale lock of the killed writer was taken over.
      expect(state.repairs.map((r) => r.kind)).toContain('stale-lock-taken-over');
    }
  }, 60_000);
});

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskStorage } from '../../../electron/raft/storage/disk-storage.js';
import { StorageInconsistencyError } from '../../../electron/raft/storage/errors.js';
import { SnapshotStore } from '../../../electron/raft/storage/snapshots.js';
import type { Snapshot } from '../../../electron/raft/types.js';
import { entry, recordingLogger, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

function snap(index: number, term: number, bytes = 1000): Snapshot {
  const data = Uint8Array.from({ length: bytes }, (_, i) => (i * 31 + index) & 0xff);
  return { metadata: { index, term, confState: { voters: ['a', 'b'], learners: [] } }, data };
}

describe('snapshot files', () => {
  it('round-trip and keep the newest two', async () => {
    const dir = await tempDir();
    const { store, snapshot } = await SnapshotStore.open(dir);
    expect(snapshot).toBeNull();
    for (const i of [10, 20, 30, 40]) await store.save(snap(i, 2));
    expect((await store.list()).map((s) => s.index)).toEqual([40, 30]);
    const again = await SnapshotStore.open(dir);
    expect(again.snapshot).toEqual(snap(40, 2));
    expect(again.repairs).toEqual([]);
  });

  it('are atomic: no temp file is left and an unfinished one is never loaded', async () => {
    const dir = await tempDir();
    const { store } = await SnapshotStore.open(dir);
    await store.save(snap(5, 1));
    expect(await fs.readdir(dir)).toEqual(['0000000000000005-0000000000000001.snap']);
    // A crash during a later write leaves only the temp file: the old snapshot still loads.
    await fs.writeFile(path.join(dir, '0000000000000009-0000000000000001.snap.tmp'), Buffer.alloc(100, 7));
    const again = await SnapshotStore.open(dir);
    expect(again.snapshot?.metadata.index).toBe(5);
    expect(again.repairs.map((r) => r.kind)).toEqual(['temp-file-removed']);
    expect(await fs.readdir(dir)).toEqual(['0000000000000005-0000000000000001.snap']);
  });

  it('a corrupt newest snapshot falls back to the older one, reported, and is set aside', async () => {
    const dir = await tempDir();
    const { store } = await SnapshotStore.open(dir);
    await store.save(snap(10, 1));
    const newest = await store.save(snap(20, 1));
    const buf = await fs.readFile(newest.file);
    buf[buf.length - 10]! ^= 0x20;
    await fs.writeFile(newest.file, buf);

    const { logger, lines } = recordingLogger();
    const again = await SnapshotStore.open(dir, { logger });
    expect(again.snapshot).toEqual(snap(10, 1));
    expect(again.repairs).toEqual([expect.objectContaining({ kind: 'snapshot-corrupt', file: newest.file })]);
    expect(again.repairs[0]!.reason).toMatch(/CRC mismatch/);
    expect(lines.some((l) => l.level === 'error')).toBe(true);
    expect((await fs.readdir(dir)).sort()).toEqual([
      '000000000000000a-0000000000000001.snap',
      '0000000000000014-0000000000000001.snap.corrupt',
    ]);
  });

  it('a truncated snapshot and one whose name disagrees with its contents are both rejected', async () => {
    const dir = await tempDir();
    const { store } = await SnapshotStore.open(dir);
    const a = await store.save(snap(10, 1));
    const b = await store.save(snap(20, 1));
    await fs.truncate(b.file, 10);
    await fs.rename(a.file, path.join(dir, '000000000000000b-0000000000000001.snap'));
    const again = await SnapshotStore.open(dir);
    expect(again.snapshot).toBeNull();
    expect(again.repairs.map((r) => r.reason)).toEqual([
      expect.stringMatching(/file too short/),
      expect.stringMatching(/file name says index 11 term 1, contents say index 10 term 1/),
    ]);
  });
});

describe('snapshot fallback through DiskStorage', () => {
  it('the WAL still holds what the older snapshot needs, so the node restarts complete', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir, { segmentBytes: 256 });
    for (let i = 1; i <= 60; i++) await storage.save({ term: 1, vote: 'a', commit: i }, [entry(i, 1, 'z'.repeat(30))]);
    await storage.saveSnapshot(snap(20, 1));
    await storage.saveSnapshot(snap(50, 1));
    await storage.close();
    const newest = path.join(dir, 'snap', '0000000000000032-0000000000000001.snap');
    const buf = await fs.readFile(newest);
    buf[30]! ^= 1;
    await fs.writeFile(newest, buf);

    const { storage: s2, state } = await DiskStorage.open(dir, { segmentBytes: 256 });
    await s2.close();
    expect(state.snapshot?.metadata.index).toBe(20);
    expect(state.entries.map((e) => e.index)).toEqual(Array.from({ length: 40 }, (_, i) => 21 + i));
    expect(state.hardState.commit).toBe(60);
    expect(state.repairs.map((r) => r.kind)).toEqual(['snapshot-corrupt']);
  });

  it('when no readable snapshot covers the start of the WAL, it refuses to start', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir, { segmentBytes: 256 });
    for (let i = 1; i <= 60; i++) await storage.save({ term: 1, vote: 'a', commit: i }, [entry(i, 1, 'z'.repeat(30))]);
    await storage.saveSnapshot(snap(40, 1));
    await storage.close();
    const only = path.join(dir, 'snap', '0000000000000028-0000000000000001.snap');
    await fs.truncate(only, 50);
    const err = await DiskStorage.open(dir, { segmentBytes: 256 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageInconsistencyError);
    expect((err as Error).message).toMatch(/the WAL starts at index \d+ but there is no readable snapshot/);
    // The refusal released the lock.
    await expect(fs.access(path.join(dir, 'LOCK'))).rejects.toThrow();
  });
});

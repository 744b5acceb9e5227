import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskStorage } from '../../../electron/raft/storage/disk-storage.js';
import { StorageInconsistencyError } from '../../../electron/raft/storage/errors.js';
import { SnapshotStore } from '../../../electron/raft/storage/snapshots.js';
import type { Snapshot } from '../../../electron/raft/types.js';
import { describeEntries, entry, range, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();
const confState = { voters: ['a', 'b', 'c'], learners: ['d'] };

function snap(index: number, term: number, text = `state@${index}`): Snapshot {
  return { metadata: { index, term, confState }, data: new TextEncoder().encode(text) };
}

async function reopen(dir: string, segmentBytes?: number) {
  const opened = await DiskStorage.open(dir, { segmentBytes });
  await opened.storage.close();
  return opened.state;
}

describe('DiskStorage', () => {
  it('a fresh directory loads as empty', async () => {
    const dir = await tempDir();
    const state = await reopen(path.join(dir, 'node'));
    expect(state).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [], repairs: [] });
  });

  it('returns the snapshot and only the entries after it', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir, { segmentBytes: 400 });
    for (let i = 1; i <= 40; i++) await storage.save({ term: 2, vote: 'a', commit: i - 1 }, [entry(i, 2)]);
    await storage.saveSnapshot(snap(20, 2));
    await storage.save({ term: 2, vote: 'a', commit: 40 }, []);
    await storage.close();
    const state = await reopen(dir, 400);
    expect(state.snapshot).toEqual(snap(20, 2));
    expect(state.entries.map((e) => e.index)).toEqual(range(21, 40, 2).map((e) => e.index));
    expect(state.hardState).toEqual({ term: 2, vote: 'a', commit: 40 });
  });

  it('compacts the WAL only up to the older of the two retained snapshots', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir, { segmentBytes: 300 });
    for (let i = 1; i <= 90; i++) await storage.save({ term: 1, vote: null, commit: i }, [entry(i, 1, 'p'.repeat(30))]);
    const segsBefore = storage.walSegments().length;
    await storage.saveSnapshot(snap(30, 1));
    // Only one snapshot: it is the oldest retained one, so segments up to 30 may go.
    const afterFirst = storage.walSegments();
    expect(afterFirst.length).toBeLessThan(segsBefore);
    expect(afterFirst[0]!.maxIndex).toBeGreaterThan(30);
    await storage.saveSnapshot(snap(80, 1));
    // Two snapshots (30, 80): nothing above 30 may be dropped yet.
    expect(storage.walSegments()[0]!.seq).toBe(afterFirst[0]!.seq);
    await storage.saveSnapshot(snap(90, 1));
    expect(storage.walSegments()[0]!.maxIndex).toBeGreaterThan(80);
    await storage.close();
    expect((await fs.readdir(path.join(dir, 'snap'))).sort()).toEqual([
      '0000000000000050-0000000000000001.snap',
      '000000000000005a-0000000000000001.snap',
    ]);
  });

  it('a snapshot received from the leader replaces a diverging log', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir);
    await storage.save({ term: 1, vote: 'a', commit: 2 }, range(1, 5, 1));
    // The leader (term 3) sends a snapshot at 10 whose history differs from our 3..5.
    await storage.save({ term: 3, vote: null, commit: 10 }, [], snap(10, 3));
    await storage.save({ term: 3, vote: null, commit: 11 }, [entry(11, 3)]);
    await storage.close();
    const state = await reopen(dir);
    expect(state.snapshot?.metadata.index).toBe(10);
    expect(describeEntries(state.entries)).toEqual(['11/3/normal/e11t3']);
    expect(state.hardState).toEqual({ term: 3, vote: null, commit: 11 });
  });

  it('a crash between the received snapshot file and its WAL record: the snapshot wins', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir);
    await storage.save({ term: 1, vote: 'a', commit: 2 }, range(1, 8, 1));
    await storage.close();
    // Only the snapshot file made it (written before the WAL record): at index 6 but term 2, unlike our 6/1.
    const { store } = await SnapshotStore.open(path.join(dir, 'snap'));
    await store.save(snap(6, 2));
    const state = await reopen(dir);
    expect(state.snapshot?.metadata.index).toBe(6);
    expect(state.entries).toEqual([]);
    expect(state.hardState.commit).toBe(6);
  });

  it('a snapshot that agrees with the log keeps the entries after it', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir);
    await storage.save({ term: 1, vote: 'a', commit: 8 }, range(1, 8, 1));
    await storage.save(null, [], snap(6, 1));
    await storage.close();
    const state = await reopen(dir);
    expect(state.entries.map((e) => e.index)).toEqual([7, 8]);
  });

  it('keeps saves in call order even when a snapshot save is still being written', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir);
    await storage.save({ term: 1, vote: 'a', commit: 0 }, range(1, 3, 1));
    // Not awaited: the snapshot file write is slow, the plain save after it must still land after it.
    const a = storage.save({ term: 2, vote: null, commit: 10 }, [], snap(10, 2));
    const b = storage.save({ term: 2, vote: null, commit: 11 }, [entry(11, 2)]);
    await Promise.all([a, b]);
    await storage.close();
    const state = await reopen(dir);
    expect(state.snapshot?.metadata.index).toBe(10);
    expect(describeEntries(state.entries)).toEqual(['11/2/normal/e11t2']);
    expect(state.hardState.commit).toBe(11);
  });

  it('refuses to start when the WAL is missing but snapshots exist', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir);
    await storage.save({ term: 1, vote: 'a', commit: 3 }, range(1, 3, 1));
    await storage.saveSnapshot(snap(3, 1));
    await storage.close();
    await fs.rm(path.join(dir, 'wal'), { recursive: true });
    await expect(DiskStorage.open(dir)).rejects.toThrow(StorageInconsistencyError);
    await expect(DiskStorage.open(dir)).rejects.toThrow(/write-ahead log is missing/);
  });

  it('creates directories 0700 and files 0600', async () => {
    const dir = path.join(await tempDir(), 'data');
    const { storage } = await DiskStorage.open(dir, { segmentBytes: 200 });
    for (let i = 1; i <= 10; i++) await storage.save({ term: 1, vote: 'a', commit: i }, [entry(i, 1, 'w'.repeat(50))]);
    await storage.saveSnapshot(snap(5, 1));
    const check = async (p: string): Promise<void> => {
      const st = await fs.stat(p);
      expect({ p, mode: (st.mode & 0o777).toString(8) }).toEqual({ p, mode: st.isDirectory() ? '700' : '600' });
      if (st.isDirectory()) for (const n of await fs.readdir(p)) await check(path.join(p, n));
    };
    await check(dir); // includes LOCK while open
    await storage.close();
  });

  it('is unusable after close, and close is idempotent', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir);
    await storage.close();
    await storage.close();
    expect(() => storage.save(null, [entry(1, 1)])).toThrow(/closed/);
  });
});

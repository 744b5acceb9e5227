import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { newMessage } from '../../../electron/raft/core/index.js';
import { RaftNode, RaftNodeStoppedError, type RaftNodeFailure } from '../../../electron/raft/node.js';
import { DiskStorage } from '../../../electron/raft/storage/disk-storage.js';
import { WalCorruptionError } from '../../../electron/raft/storage/errors.js';
import type { Entry, Snapshot } from '../../../electron/raft/types.js';
import { KvStateMachine, LocalCluster, kv, waitFor } from './cluster.js';

// What stops a RaftNode and what does not. A message from another node never does; a full disk does, visibly,
// and the node comes back with everything it acknowledged once space is freed. Real files, real fsync, and a
// real full file system: a small tmpfs mounted for this file and unmounted by its own path at the end.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

describe('a message from another node never stops a RaftNode', () => {
  it('a heartbeat that commits past the log end is dropped and counted; the group keeps committing', async () => {
    const cluster = await LocalCluster.start();
    try {
      const leader = await cluster.waitForLeader();
      await leader.propose(kv('a', '1'));
      for (const f of cluster.followers(leader)) {
        const { term, lastIndex } = f.status();
        f.receive(newMessage({ type: 'heartbeat', from: leader.id, to: f.id, term, commit: lastIndex + 1000 }));
        f.receive({ type: 'app', from: leader.id, to: f.id, term: -1 } as never);
        f.receive(newMessage({ type: 'heartbeat', from: 'w1', to: f.id, term: term + 1000 }));
        expect(f.isStopped).toBe(false);
        expect(f.status()).toMatchObject({
          term,
          failure: null,
          droppedMessages: { 'commit-past-log': 1, malformed: 1, 'non-member': 1 },
        });
      }
      expect(await leader.propose(kv('b', '2'))).toMatch(/^b@/);
      for (const id of cluster.ids) await waitFor(() => cluster.machine(id).map.get('b') === '2', 10_000, `${id} applies b`);
    } finally {
      await cluster.close();
    }
  });
});

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('SKIPPED full-disk tests: mounting a tmpfs needs root (CI runs as root)');

describe.skipIf(!isRoot)('a full disk (a real tmpfs)', () => {
  let mount = '';
  /** Whatever a test opened or filled, undone even when it fails, so the next test has its space back. */
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    mount = await fs.mkdtemp(path.join(os.tmpdir(), 'skep-enospc-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m,mode=0700', 'tmpfs', mount]);
  });

  afterEach(async () => {
    for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => undefined);
  });

  afterAll(async () => {
    if (!mount) return;
    try {
      execFileSync('umount', [mount]);
    } catch {
      // Something of this process still holds a file there: detach it now, the kernel frees it on close.
      execFileSync('umount', ['-l', mount]);
    }
    await fs.rmdir(mount);
  });

  async function openStorage(dataDir: string): Promise<Awaited<ReturnType<typeof DiskStorage.open>>> {
    const opened = await DiskStorage.open(dataDir);
    cleanups.push(() => opened.storage.close());
    return opened;
  }

  /** Fills the file system up to `leaveBytes` of free space with one filler file; returns its path. */
  async function fill(dir: string, leaveBytes: number): Promise<string> {
    const filler = path.join(dir, 'filler');
    cleanups.push(() => fs.rm(filler, { force: true }));
    const st = await fs.statfs(mount);
    const free = st.bavail * st.bsize;
    const fh = await fs.open(filler, 'w');
    try {
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      let left = Math.max(0, free - leaveBytes);
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        await fh.write(chunk, 0, n);
        left -= n;
      }
    } finally {
      await fh.close();
    }
    return filler;
  }

  async function newDir(name: string): Promise<string> {
    const dir = path.join(mount, name);
    await fs.mkdir(dir);
    return dir;
  }

  const value = (i: number): string => `v${i}-`.padEnd(700, String.fromCharCode(97 + (i % 26)));

  it.each([
    ['in the WAL (no snapshots)', 0],
    ['wherever it comes first (WAL, or a snapshot every 300 entries)', 300],
  ])('RaftNode fails visibly on ENOSPC %s, refuses or fails again while full, and restarts with every acknowledged entry once space is freed', async (_where, snapshotEntries) => {
    const dir = await newDir(`node-${snapshotEntries}`);
    const dataDir = path.join(dir, 'raft');
    const options = (sm: KvStateMachine) => ({
      id: 'n1',
      dataDir,
      stateMachine: sm,
      transport: { send: () => undefined },
      bootstrap: { voters: ['n1'], learners: [] },
      tickMs: 10,
      segmentBytes: 128 * 1024,
      snapshotEntries,
      catchUpEntries: 50,
    });
    const node = await RaftNode.start<string>(options(new KvStateMachine()));
    cleanups.push(() => node.stop());
    await waitFor(() => node.status().role === 'leader', 10_000, 'a single voter elects itself');
    const filler = await fill(dir, 600 * 1024);

    const fatal: { error: Error; failure: RaftNodeFailure }[] = [];
    node.on('fatal', (error, failure) => fatal.push({ error, failure }));
    const acknowledged = new Map<string, string>();
    let refused: unknown = null;
    for (let i = 0; refused === null && i < 100_000; i += 8) {
      const batch = Array.from({ length: 8 }, (_, j) => i + j);
      const results = await Promise.allSettled(batch.map((k) => node.propose(kv(`k${k}`, value(k)))));
      results.forEach((r, j) => {
        if (r.status === 'fulfilled') acknowledged.set(`k${batch[j]!}`, value(batch[j]!));
        else refused ??= r.reason;
      });
    }
    expect(refused).toBeInstanceOf(RaftNodeStoppedError);
    expect(acknowledged.size).toBeGreaterThan(100);
    await node.stop();
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.failure).toMatchObject({ source: 'storage', code: 'ENOSPC', retryable: true });
    expect((fatal[0]!.error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(node.status().failure).toEqual(fatal[0]!.failure);
    expect(node.failure).toEqual(fatal[0]!.failure);
    console.log(`full disk: ${acknowledged.size} proposals acknowledged before ENOSPC (${fatal[0]!.failure.message})`);

    // Still full: opening again either refuses cleanly or fails the same way; either way nothing is damaged.
    let retry: string;
    try {
      const again = await RaftNode.start<string>(options(new KvStateMachine()));
      cleanups.push(() => again.stop());
      // (The old node's in-memory commit counted entries whose write failed; only what is on disk comes back.)
      await waitFor(() => again.isStopped || (again.status().role === 'leader' && again.status().applied === again.status().lastIndex), 10_000, 'the retry settles');
      await again.stop();
      if (again.failure) expect(again.failure.code).toBe('ENOSPC');
      const repaired = again.repairs.map((r) => r.kind).join(', ') || 'nothing';
      retry = `started (repaired ${repaired})${again.failure ? `, then failed with ${again.failure.code}` : ''}`;
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      retry = `refused with ${(err as NodeJS.ErrnoException).code}`;
    }

    await fs.rm(filler);
    const sm = new KvStateMachine();
    const back = await RaftNode.start<string>(options(sm));
    cleanups.push(() => back.stop());
    try {
      await waitFor(() => back.status().role === 'leader', 10_000, 'the restarted node leads');
      await back.propose(kv('after', 'space freed'));
      const lost = [...acknowledged].filter(([k, v]) => sm.map.get(k) !== v).map(([k]) => k);
      expect(lost).toEqual([]);
      expect(sm.map.get('after')).toBe('space freed');
      expect(back.status().failure).toBeNull();
      console.log(
        `full disk: a retry while full ${retry}; after freeing space, restarted with all ${acknowledged.size} acknowledged entries; repairs: ${JSON.stringify(back.repairs.map((r) => r.kind))}`,
      );
    } finally {
      await back.stop();
    }
  });

  const entry = (index: number, term: number, bytes: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(bytes).fill(index % 251) });

  it('a WAL write cut short by ENOSPC leaves no partial record: reopening finds every saved entry', async () => {
    const dir = await newDir('wal');
    const dataDir = path.join(dir, 'raft');
    const { storage } = await openStorage(dataDir);
    await storage.save({ term: 1, vote: 'n1', commit: 0 }, [entry(1, 1, 1000), entry(2, 1, 1000)]);
    const walFile = path.join(dataDir, 'wal', storage.walSegments()[0]!.file.split('/').pop()!);
    const sizeBefore = (await fs.stat(walFile)).size;
    const filler = await fill(dir, 8 * 1024);
    const big = Array.from({ length: 20 }, (_, i) => entry(3 + i, 1, 1000));
    const err = await storage.save({ term: 1, vote: 'n1', commit: 2 }, big).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    // Cut back to the last complete record, so the space it took is free again.
    expect((await fs.stat(walFile)).size).toBe(sizeBefore);
    await expect(storage.save(null, [entry(3, 1, 10)])).rejects.toThrow(/accepts no writes/);
    await storage.close();

    const reopened = await openStorage(dataDir);
    expect(reopened.state.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(reopened.state.hardState).toEqual({ term: 1, vote: 'n1', commit: 0 });
    expect(reopened.state.repairs).toEqual([]);
    await reopened.storage.close();
    await fs.rm(filler);
  });

  it('opening on a disk with no space at all refuses with ENOSPC and leaves nothing behind, not even a lock', async () => {
    const dir = await newDir('nospace');
    const dataDir = path.join(dir, 'raft');
    const { storage } = await openStorage(dataDir);
    await storage.save({ term: 2, vote: 'n1', commit: 1 }, [entry(1, 2, 100)]);
    await storage.close();
    const listing = async (): Promise<string[]> => (await fs.readdir(dataDir, { recursive: true })).map(String).sort();
    const before = await listing();
    const filler = await fill(dir, 0);
    const err = await DiskStorage.open(dataDir).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(await listing()).toEqual(before);
    await fs.rm(filler);
    const reopened = await openStorage(dataDir);
    expect(reopened.state.repairs).toEqual([]);
    expect(reopened.state.entries.map((e) => e.index)).toEqual([1]);
    expect(reopened.state.hardState).toEqual({ term: 2, vote: 'n1', commit: 1 });
  });

  it('a snapshot that does not fit leaves the previous one in place and no temp file behind', async () => {
    const dir = await newDir('snap');
    const dataDir = path.join(dir, 'raft');
    const { storage } = await openStorage(dataDir);
    await storage.save({ term: 1, vote: 'n1', commit: 3 }, [entry(1, 1, 100), entry(2, 1, 100), entry(3, 1, 100)]);
    const first: Snapshot = { metadata: { index: 2, term: 1, confState: { voters: ['n1'], learners: [] } }, data: new Uint8Array(4096).fill(7) };
    await storage.saveSnapshot(first);
    const filler = await fill(dir, 64 * 1024);
    const tooBig: Snapshot = { metadata: { index: 3, term: 1, confState: { voters: ['n1'], learners: [] } }, data: new Uint8Array(512 * 1024).fill(9) };
    const err = await storage.saveSnapshot(tooBig).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect((await fs.readdir(path.join(dataDir, 'snap'))).sort()).toEqual(['0000000000000002-0000000000000001.snap']);
    await storage.close();

    await fs.rm(filler);
    const reopened = await openStorage(dataDir);
    expect(reopened.state.snapshot?.metadata.index).toBe(2);
    expect(reopened.state.snapshot?.data).toEqual(first.data);
    expect(reopened.state.entries.map((e) => e.index)).toEqual([3]);
    expect(reopened.state.hardState.commit).toBe(3);
    await reopened.storage.close();
  });

  it('a damaged record in the middle of the WAL still refuses to start, naming the file and offset', async () => {
    const dir = await newDir('corrupt');
    const dataDir = path.join(dir, 'raft');
    const { storage } = await openStorage(dataDir);
    for (let i = 1; i <= 3; i++) await storage.save({ term: 1, vote: 'n1', commit: i - 1 }, [entry(i, 1, 200)]);
    const walFile = storage.walSegments()[0]!.file;
    await storage.close();
    const buf = await fs.readFile(walFile);
    // The second batch record starts after the header record and the first batch; flip a byte inside it.
    const headerLen = 8 + buf.readUInt32LE(0);
    const firstBatchLen = 8 + buf.readUInt32LE(headerLen);
    const secondAt = headerLen + firstBatchLen;
    buf.writeUInt8(buf.readUInt8(secondAt + 20) ^ 0xff, secondAt + 20);
    await fs.writeFile(walFile, buf);
    const err = await RaftNode.start<string>({
      id: 'n1',
      dataDir,
      stateMachine: new KvStateMachine(),
      transport: { send: () => undefined },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptionError);
    expect(err).toMatchObject({ file: walFile, offset: secondAt });
    expect(String((err as Error).message)).toContain(`${walFile} is corrupt at byte offset ${secondAt}`);
  });
});

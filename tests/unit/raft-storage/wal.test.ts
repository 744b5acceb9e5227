import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeBatch } from '../../../electron/raft/storage/codec.js';
import { WalCorruptionError } from '../../../electron/raft/storage/errors.js';
import { Wal } from '../../../electron/raft/storage/wal.js';
import type { Entry } from '../../../electron/raft/types.js';
import { describeEntries, entry, range, recordingLogger, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

async function reopen(dir: string, segmentBytes?: number) {
  const opened = await Wal.open(dir, { segmentBytes });
  await opened.wal.close();
  return opened.replay;
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => n.endsWith('.wal')).sort().map((n) => path.join(dir, n));
}

describe('WAL round trip', () => {
  it('replays hard state and entries exactly, binary data and conf changes included', async () => {
    const dir = await tempDir();
    const { wal, replay } = await Wal.open(dir);
    expect(replay.created).toBe(true);
    expect(replay.entries).toEqual([]);
    expect(replay.hardState).toEqual({ term: 0, vote: null, commit: 0 });

    const binary: Entry = { index: 3, term: 2, type: 'confChange', data: Uint8Array.from([0, 255, 1, 254]) };
    await wal.save({ term: 1, vote: 'node-a', commit: 0 }, [entry(1, 1), entry(2, 1)]);
    await wal.save({ term: 2, vote: 'ñode-ü', commit: 2 }, [binary, { index: 4, term: 2, type: 'normal', data: new Uint8Array(0) }]);
    await wal.save(null, [entry(5, 2)]);
    await wal.close();

    const r = await reopen(dir);
    expect(r.created).toBe(false);
    expect(r.repairs).toEqual([]);
    expect(r.hardState).toEqual({ term: 2, vote: 'ñode-ü', commit: 2 });
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect(r.entries[2]).toEqual(binary);
    expect(r.entries[3]!.data.byteLength).toBe(0);
    expect(describeEntries(r.entries.slice(0, 2))).toEqual(['1/1/normal/e1t1', '2/1/normal/e2t1']);
  });

  it('keeps appending after a reopen', async () => {
    const dir = await tempDir();
    let { wal } = await Wal.open(dir);
    await wal.save({ term: 1, vote: null, commit: 0 }, range(1, 3, 1));
    await wal.close();
    ({ wal } = await Wal.open(dir));
    await wal.save({ term: 1, vote: null, commit: 3 }, range(4, 6, 1));
    await wal.close();
    const r = await reopen(dir);
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.hardState.commit).toBe(3);
  });

  it('refuses non-contiguous entries in one save', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    expect(() => wal.save(null, [entry(1, 1), entry(3, 1)])).toThrow(/not contiguous/);
    await wal.close();
  });
});

describe('WAL overwrite of a conflicting suffix', () => {
  it('a later entry at index i replaces everything from i on', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save({ term: 1, vote: 'a', commit: 2 }, range(1, 6, 1));
    // A new leader of term 2 overwrites 4..6 with a shorter tail.
    await wal.save({ term: 2, vote: 'b', commit: 2 }, [entry(4, 2, 'new4')]);
    await wal.save(null, [entry(5, 2, 'new5')]);
    await wal.close();
    const r = await reopen(dir);
    expect(describeEntries(r.entries)).toEqual(['1/1/normal/e1t1', '2/1/normal/e2t1', '3/1/normal/e3t1', '4/2/normal/new4', '5/2/normal/new5']);
  });

  it('an overwrite from the very first index replaces the whole log', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(null, range(1, 3, 1));
    await wal.save(null, [entry(1, 2, 'x')]);
    await wal.close();
    expect(describeEntries((await reopen(dir)).entries)).toEqual(['1/2/normal/x']);
  });

  it('refuses at write time to save entries that would leave a gap', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(null, range(1, 3, 1));
    expect(() => wal.save(null, [entry(5, 1)])).toThrow(/start at index 5 but the log ends at 3/);
    // After a snapshot marker the log may continue right after the snapshot.
    await wal.save(null, [entry(11, 2)], { index: 10, term: 2 });
    await wal.close();
    const r = await reopen(dir);
    expect(describeEntries(r.entries)).toEqual(['11/2/normal/e11t2']);
  });

  it('a record that leaves a gap is corruption, not something to skip', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(null, range(1, 3, 1));
    await wal.close();
    const [seg] = await segmentFiles(dir);
    await fs.appendFile(seg!, encodeBatch(null, [entry(9, 1)], null));
    await expect(Wal.open(dir)).rejects.toThrow(/entries start at index 9 but the log before them ends at 3/);
  });
});

describe('WAL segments', () => {
  it('rotates by size; each segment carries the current hard state so old ones can go', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 1024 });
    for (let i = 1; i <= 100; i++) await wal.save({ term: 1, vote: 'a', commit: i - 1 }, [entry(i, 1, 'x'.repeat(40))]);
    const segs = wal.segmentsInfo();
    expect(segs.length).toBeGreaterThan(3);
    expect(segs.map((s) => s.seq)).toEqual(segs.map((_, i) => i + 1));
    for (const s of segs.slice(0, -1)) expect(s.bytes).toBeGreaterThanOrEqual(1024);
    await wal.close();
    const r = await reopen(dir, 1024);
    expect(r.entries.map((e) => e.index)).toEqual(range(1, 100, 1).map((e) => e.index));
    expect(r.hardState).toEqual({ term: 1, vote: 'a', commit: 99 });
  });

  it('compact(index) drops whole segments entirely at or below index, never the active one', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 512 });
    for (let i = 1; i <= 60; i++) await wal.save({ term: 3, vote: null, commit: i }, [entry(i, 3, 'y'.repeat(40))]);
    const before = wal.segmentsInfo();
    const cut = before[2]!.maxIndex; // everything in the first three segments is <= cut
    const removed = await wal.compact(cut);
    expect(removed).toEqual(before.slice(0, 3).map((s) => s.file));
    expect(wal.segmentsInfo()[0]!.seq).toBe(before[3]!.seq);
    // Compacting beyond everything still keeps the active segment.
    await wal.compact(1_000_000);
    expect(wal.segmentsInfo()).toHaveLength(1);
    await wal.save({ term: 4, vote: 'z', commit: 60 }, [entry(61, 4)]);
    await wal.close();
    expect(await segmentFiles(dir)).toHaveLength(1);

    const r = await reopen(dir, 512);
    expect(r.hardState).toEqual({ term: 4, vote: 'z', commit: 60 });
    expect(r.entries.map((e) => e.index)).toEqual([61]);
  });

  it('a segment is never visible half-created: a leftover .tmp is removed and reported', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(null, range(1, 2, 1));
    await wal.close();
    await fs.writeFile(path.join(dir, '0000000000000002.wal.tmp'), 'partial');
    const r = await reopen(dir);
    expect(r.repairs.map((x) => x.kind)).toEqual(['temp-file-removed']);
    expect(await fs.readdir(dir)).toEqual(['0000000000000001.wal']);
    expect(r.entries).toHaveLength(2);
  });

  it('a missing segment in the middle refuses to start', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 256 });
    for (let i = 1; i <= 30; i++) await wal.save(null, [entry(i, 1, 'z'.repeat(40))]);
    await wal.close();
    const segs = await segmentFiles(dir);
    await fs.rm(segs[1]!);
    await expect(Wal.open(dir)).rejects.toThrow(/0000000000000002\.wal is missing/);
  });
});

describe('WAL torn tail (crash during the last save)', () => {
  async function writeSome(dir: string): Promise<{ file: string; goodBytes: number }> {
    const { wal } = await Wal.open(dir);
    await wal.save({ term: 1, vote: 'a', commit: 1 }, range(1, 5, 1));
    await wal.save({ term: 1, vote: 'a', commit: 5 }, range(6, 8, 1));
    const goodBytes = wal.segmentsInfo()[0]!.bytes;
    await wal.save({ term: 1, vote: 'a', commit: 8 }, range(9, 12, 1));
    await wal.close();
    return { file: (await segmentFiles(dir))[0]!, goodBytes };
  }

  for (const [what, cutFromEnd] of [
    ['inside the length field', -1], // computed below: leaves 2 bytes of the last header
    ['inside the CRC field', -2],
    ['inside the payload', -3],
  ] as const) {
    it(`truncated ${what}: repaired and reported, earlier records kept`, async () => {
      const dir = await tempDir();
      const { file, goodBytes } = await writeSome(dir);
      const size = (await fs.stat(file)).size;
      const keep = cutFromEnd === -1 ? goodBytes + 2 : cutFromEnd === -2 ? goodBytes + 6 : goodBytes + Math.floor((size - goodBytes) / 2);
      await fs.truncate(file, keep);
      const { logger, lines } = recordingLogger();
      const { wal, replay } = await Wal.open(dir, { logger });
      expect(replay.entries.map((e) => e.index)).toEqual(range(1, 8, 1).map((e) => e.index));
      expect(replay.hardState.commit).toBe(5);
      expect(replay.repairs).toEqual([
        expect.objectContaining({ kind: 'wal-torn-tail', file, offset: goodBytes, droppedBytes: keep - goodBytes }),
      ]);
      expect(lines.some((l) => l.level === 'warn' && /torn/.test(l.message))).toBe(true);
      expect((await fs.stat(file)).size).toBe(goodBytes);
      // The log continues cleanly after the repair.
      await wal.save(null, [entry(9, 2, 'after-repair')]);
      await wal.close();
      const r = await reopen(dir);
      expect(r.repairs).toEqual([]);
      expect(describeEntries(r.entries).at(-1)).toBe('9/2/normal/after-repair');
    });
  }

  it('garbage appended after the last record: repaired and reported', async () => {
    const dir = await tempDir();
    const { file } = await writeSome(dir);
    const size = (await fs.stat(file)).size;
    let seed = 7;
    const garbage = Buffer.from(Array.from({ length: 300 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
    await fs.appendFile(file, garbage);
    const r = await reopen(dir);
    expect(r.entries).toHaveLength(12);
    expect(r.repairs).toEqual([expect.objectContaining({ kind: 'wal-torn-tail', offset: size, droppedBytes: 300 })]);
  });

  it('a whole last record with a bad CRC and nothing after it: repaired', async () => {
    const dir = await tempDir();
    const { file, goodBytes } = await writeSome(dir);
    const buf = await fs.readFile(file);
    buf[buf.length - 1]! ^= 0x40;
    await fs.writeFile(file, buf);
    const r = await reopen(dir);
    expect(r.entries).toHaveLength(8);
    expect(r.repairs).toEqual([expect.objectContaining({ kind: 'wal-torn-tail', offset: goodBytes })]);
    expect(r.repairs[0]!.reason).toMatch(/CRC mismatch/);
  });
});

describe('WAL corruption before the tail refuses to start', () => {
  it('a flipped byte in an early record of the last segment: error names file and offset', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save({ term: 1, vote: 'a', commit: 0 }, range(1, 5, 1));
    const secondRecordAt = wal.segmentsInfo()[0]!.bytes;
    await wal.save({ term: 1, vote: 'a', commit: 5 }, range(6, 10, 1));
    await wal.save({ term: 1, vote: 'a', commit: 10 }, range(11, 15, 1));
    await wal.close();
    const file = (await segmentFiles(dir))[0]!;
    const before = await fs.readFile(file);
    const buf = Buffer.from(before);
    buf[secondRecordAt + 20]! ^= 0x01;
    await fs.writeFile(file, buf);

    const err = await Wal.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptionError);
    const wce = err as WalCorruptionError;
    expect(wce.file).toBe(file);
    expect(wce.offset).toBe(secondRecordAt);
    expect(wce.message).toContain(file);
    expect(wce.message).toContain(`byte offset ${secondRecordAt}`);
    // Nothing was truncated.
    expect(await fs.readFile(file)).toEqual(buf);
  });

  it('a damaged length field with valid records after it is not mistaken for a torn tail', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(null, range(1, 5, 1));
    const at = wal.segmentsInfo()[0]!.bytes;
    await wal.save(null, range(6, 10, 1));
    await wal.save(null, range(11, 15, 1));
    await wal.close();
    const file = (await segmentFiles(dir))[0]!;
    const buf = await fs.readFile(file);
    buf.writeUInt32LE(0x0000ffff, at); // the length now points far past the end of the file
    await fs.writeFile(file, buf);
    await expect(Wal.open(dir)).rejects.toThrow(new RegExp(`corrupt at byte offset ${at}: short record payload`));
  });

  it('damage at the end of a segment that is not the last refuses to start', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 300 });
    for (let i = 1; i <= 20; i++) await wal.save({ term: 1, vote: null, commit: i }, [entry(i, 1, 'q'.repeat(50))]);
    await wal.close();
    const segs = await segmentFiles(dir);
    expect(segs.length).toBeGreaterThan(2);
    const first = segs[0]!;
    const size = (await fs.stat(first)).size;
    await fs.truncate(first, size - 3);
    const err = await Wal.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptionError);
    expect((err as WalCorruptionError).file).toBe(first);
  });

  it('a damaged segment header refuses to start', async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(null, range(1, 2, 1));
    await wal.close();
    const file = (await segmentFiles(dir))[0]!;
    const buf = await fs.readFile(file);
    buf[9]! ^= 0xff;
    await fs.writeFile(file, buf);
    await expect(Wal.open(dir)).rejects.toThrow(/corrupt at byte offset 0/);
  });
});

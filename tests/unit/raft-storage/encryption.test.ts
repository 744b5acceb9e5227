// Encryption at rest in the Raft storage: the AES-256-GCM codec, sealed WAL records and snapshots, a
// tampered record handled as corruption, a missing key refused without touching anything, and the
// migration (reseal) of a directory written in clear.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AesGcmCipher, DataKeyMissingError, SealedPayloadError, sealContext } from '../../../electron/raft/storage/cipher.js';
import { FRAME_HEADER_BYTES } from '../../../electron/raft/storage/codec.js';
import { crc32c } from '../../../electron/raft/storage/crc32c.js';
import { DiskStorage } from '../../../electron/raft/storage/disk-storage.js';
import { WalCorruptionError } from '../../../electron/raft/storage/errors.js';
import type { Entry, Snapshot } from '../../../electron/raft/types.js';
import { describeEntries, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();
const SECRET = 'CA-PRIVATE-KEY-do-not-leak';

function secretEntry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(`${SECRET} #${index}`) };
}

function snapshotAt(index: number, term: number): Snapshot {
  return { metadata: { index, term, confState: { voters: ['n1'], learners: [] } }, data: new TextEncoder().encode(`state with ${SECRET}`) };
}

/** Every byte of every file under `dir`. */
async function allBytes(dir: string): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(await readFile(path.join(entry.parentPath, entry.name)));
  }
  return Buffer.concat(out);
}

async function walFiles(dir: string): Promise<string[]> {
  return (await readdir(path.join(dir, 'wal'))).filter((n) => n.endsWith('.wal')).map((n) => path.join(dir, 'wal', n));
}

describe('AesGcmCipher', () => {
  const context = sealContext('entry', 7, 2);

  it('round-trips, and binds the payload to its index and term', () => {
    const cipher = new AesGcmCipher(randomBytes(32));
    const sealed = cipher.seal(Buffer.from('hello'), context);
    expect(Buffer.from(sealed).includes('hello')).toBe(false);
    expect(Buffer.from(cipher.open(sealed, context)).toString()).toBe('hello');
    expect(() => cipher.open(sealed, sealContext('entry', 8, 2))).toThrow(SealedPayloadError);
  });

  it('refuses a tampered payload with a clear error, not a crash', () => {
    const cipher = new AesGcmCipher(randomBytes(32));
    const sealed = Buffer.from(cipher.seal(Buffer.from('hello world'), context));
    sealed[sealed.length - 20]! ^= 0x01;
    let caught: unknown;
    try {
      cipher.open(sealed, context);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SealedPayloadError);
    expect(caught).toMatchObject({ reason: 'damaged', message: expect.stringContaining('failed authentication') });
    expect(() => cipher.open(sealed.subarray(0, 10), context)).toThrow(/too short/);
  });

  it('opens with a previous key, says which key sealed a payload, and names an unknown key', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = new AesGcmCipher(oldKey);
    const sealedOld = before.seal(Buffer.from('x'), context);
    const ring = new AesGcmCipher(newKey, [oldKey]);
    expect(Buffer.from(ring.open(sealedOld, context)).toString()).toBe('x');
    expect(ring.isCurrent(sealedOld)).toBe(false);
    expect(ring.isCurrent(ring.seal(Buffer.from('y'), context))).toBe(true);
    expect(() => new AesGcmCipher(newKey).open(sealedOld, context)).toThrow(expect.objectContaining({ reason: 'unknown-key' }));
  });
});

describe('DiskStorage with a cipher', () => {
  it('keeps entry data and snapshot data sealed on disk, and reads them back', async () => {
    const dir = await tempDir();
    const key = randomBytes(32);
    const { storage } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(key) });
    await storage.save({ term: 1, vote: 'n1', commit: 2 }, [secretEntry(1, 1), secretEntry(2, 1)]);
    await storage.saveSnapshot(snapshotAt(2, 1));
    await storage.save({ term: 1, vote: 'n1', commit: 3 }, [secretEntry(3, 1)]);
    await storage.close();
    expect((await allBytes(dir)).includes(SECRET)).toBe(false);

    const { storage: again, state } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(key) });
    await again.close();
    expect(new TextDecoder().decode(state.snapshot?.data)).toBe(`state with ${SECRET}`);
    expect(describeEntries(state.entries)).toEqual([`3/1/normal/${SECRET} #3`]);
    expect(state.hardState).toEqual({ term: 1, vote: 'n1', commit: 3 });
  });

  it('refuses to open sealed data without its key, and changes nothing on disk', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(randomBytes(32)) });
    await storage.save({ term: 1, vote: null, commit: 1 }, [secretEntry(1, 1)]);
    await storage.saveSnapshot(snapshotAt(1, 1));
    await storage.close();
    const before = await allBytes(dir);
    await expect(DiskStorage.open(dir, { cipher: new AesGcmCipher(randomBytes(32)) })).rejects.toThrow(DataKeyMissingError);
    await expect(DiskStorage.open(dir)).rejects.toThrow(/encrypted with a data key this node does not have/);
    expect((await allBytes(dir)).equals(before)).toBe(true);
    expect(await readdir(path.join(dir, 'snap'))).not.toContainEqual(expect.stringMatching(/corrupt/));
  });

  it('treats a sealed record altered in the middle of the log (CRC fixed up) as corruption: WalCorruptionError, nothing truncated', async () => {
    const dir = await tempDir();
    const key = randomBytes(32);
    const { storage } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(key) });
    await storage.save({ term: 1, vote: null, commit: 0 }, [secretEntry(1, 1)]);
    await storage.save({ term: 1, vote: null, commit: 0 }, [secretEntry(2, 1)]);
    await storage.close();
    const [file] = await walFiles(dir);
    const buf = await readFile(file!);
    // Walk to the second record (the first batch), flip a ciphertext byte and recompute its CRC.
    const headerLen = buf.readUInt32LE(0);
    const off = FRAME_HEADER_BYTES + headerLen;
    const len = buf.readUInt32LE(off);
    // Payload: kind, flags, count u32, then the entry's index u64, term u64, type u8, length u32 and sealed data.
    const sealedData = off + FRAME_HEADER_BYTES + 2 + 4 + 21;
    buf[sealedData + 25]! ^= 0xff;
    buf.writeUInt32LE(crc32c(buf, crc32c(buf, 0, off, off + 4), off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len), off + 4);
    await writeFile(file!, buf);
    const error = await DiskStorage.open(dir, { cipher: new AesGcmCipher(key) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalCorruptionError);
    expect((error as Error).message).toMatch(new RegExp(`corrupt at byte offset ${off}: entry 1: sealed payload failed authentication`));
    expect((await readFile(file!)).equals(buf)).toBe(true);
  });

  it('treats a snapshot whose sealed data fails authentication as a damaged snapshot: set aside, the older one used', async () => {
    const dir = await tempDir();
    const key = randomBytes(32);
    const { storage } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(key) });
    await storage.save({ term: 1, vote: null, commit: 3 }, [secretEntry(1, 1), secretEntry(2, 1), secretEntry(3, 1)]);
    await storage.saveSnapshot(snapshotAt(2, 1));
    await storage.saveSnapshot(snapshotAt(3, 1));
    await storage.close();
    const newest = path.join(dir, 'snap', `${(3).toString(16).padStart(16, '0')}-${(1).toString(16).padStart(16, '0')}.snap`);
    const buf = await readFile(newest);
    buf[buf.length - 3]! ^= 0xff;
    buf.writeUInt32LE(crc32c(buf, 0, 20), 16);
    await writeFile(newest, buf);
    const { storage: again, state } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(key) });
    await again.close();
    expect(state.snapshot?.metadata.index).toBe(2);
    expect(state.repairs).toContainEqual(expect.objectContaining({ kind: 'snapshot-corrupt', reason: expect.stringContaining('failed authentication') }));
  });

  it('migrates a directory written in clear: sealed on open, the clear copies gone, the state intact', async () => {
    const dir = await tempDir();
    // The current code path without a cipher writes exactly what older Skep versions wrote.
    const { storage } = await DiskStorage.open(dir, { segmentBytes: 300 });
    for (let i = 1; i <= 6; i++) await storage.save({ term: 1, vote: 'n1', commit: i - 1 }, [secretEntry(i, 1)]);
    await storage.saveSnapshot(snapshotAt(3, 1));
    await storage.saveSnapshot(snapshotAt(5, 1));
    await storage.save({ term: 2, vote: 'n1', commit: 6 }, []);
    await storage.close();
    expect((await allBytes(dir)).includes(SECRET)).toBe(true);
    const clearState = (await DiskStorage.open(dir).then(async ({ storage: s, state }) => (await s.close(), state)));

    const key = randomBytes(32);
    const { storage: migrated, state } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(key), segmentBytes: 300 });
    expect(state.repairs).toContainEqual(expect.objectContaining({ kind: 'resealed' }));
    await migrated.save({ term: 2, vote: 'n1', commit: 7 }, [secretEntry(7, 2)]);
    await migrated.close();
    expect((await allBytes(dir)).includes(SECRET)).toBe(false);

    const { storage: reopened, state: after } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(key) });
    await reopened.close();
    expect(after.repairs.filter((r) => r.kind === 'resealed')).toEqual([]);
    expect(after.snapshot).toEqual(clearState.snapshot);
    expect(describeEntries(after.entries)).toEqual([...describeEntries(clearState.entries), `7/2/normal/${SECRET} #7`]);
    expect(after.hardState).toEqual({ term: 2, vote: 'n1', commit: 7 });
  });

  it('a migration interrupted after the new segment was written (old segments still there) replays to the same state and finishes', async () => {
    const dir = await tempDir();
    const { storage } = await DiskStorage.open(dir);
    await storage.save({ term: 1, vote: 'n1', commit: 2 }, [secretEntry(1, 1), secretEntry(2, 1)]);
    await storage.close();
    const oldSegment = await readFile((await walFiles(dir))[0]!);
    const key = randomBytes(32);
    const { storage: migrated } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(key) });
    await migrated.close();
    // Put the clear segment back in front of the sealed one: the crash came before the old segments were deleted.
    const [sealedSegment] = await walFiles(dir);
    expect(path.basename(sealedSegment!)).toBe(`${(2).toString(16).padStart(16, '0')}.wal`);
    await writeFile(path.join(dir, 'wal', `${(1).toString(16).padStart(16, '0')}.wal`), oldSegment);
    const { storage: again, state } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(key) });
    await again.close();
    expect(describeEntries(state.entries)).toEqual([`1/1/normal/${SECRET} #1`, `2/1/normal/${SECRET} #2`]);
    expect(state.repairs).toContainEqual(expect.objectContaining({ kind: 'resealed' }));
    expect((await allBytes(dir)).includes(SECRET)).toBe(false);
  });

  it('reseal() under a new key while open: the previous key is no longer needed afterwards', async () => {
    const dir = await tempDir();
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const cipher = new AesGcmCipher(oldKey);
    const { storage } = await DiskStorage.open(dir, { cipher });
    await storage.save({ term: 1, vote: 'n1', commit: 2 }, [secretEntry(1, 1), secretEntry(2, 1)]);
    await storage.saveSnapshot(snapshotAt(1, 1));
    cipher.setKeys(newKey, [oldKey]);
    await storage.reseal();
    await storage.save({ term: 1, vote: 'n1', commit: 3 }, [secretEntry(3, 1)]);
    await storage.close();
    const { storage: again, state } = await DiskStorage.open(dir, { cipher: new AesGcmCipher(newKey) });
    await again.close();
    expect(state.repairs).toEqual([]);
    expect(describeEntries(state.entries)).toEqual([`2/1/normal/${SECRET} #2`, `3/1/normal/${SECRET} #3`]);
    await expect(DiskStorage.open(dir, { cipher: new AesGcmCipher(oldKey) })).rejects.toThrow(DataKeyMissingError);
  });
});

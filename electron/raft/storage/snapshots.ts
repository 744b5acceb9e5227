// Snapshot files: one per snapshot, written atomically, checksummed, the newest `keep` (default 2) retained.
//
// File name: <index 16 hex>-<term 16 hex>.snap
// Layout (little-endian): ["SKEPSNAP" 8][version u32][crc32c u32 of everything after byte 16]
//                         [metadata length u32][metadata JSON utf8][state machine data]
// Version 1: the data in clear. Version 2: the data sealed by the storage's PayloadCipher (cipher.ts),
// bound to the snapshot's index and term; the metadata stays readable.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ConfState, Snapshot } from '../types.js';
import { DataKeyMissingError, SealedPayloadError, sealContext, type PayloadCipher } from './cipher.js';
import { crc32c } from './crc32c.js';
import { ensurePrivateDir, fsyncDir, isErrno, writeFileAtomic } from './fsutil.js';
import { silentLogger, type RaftLogger, type StorageRepair } from './logger.js';

const MAGIC = Buffer.from('SKEPSNAP', 'latin1');
const VERSION_CLEAR = 1;
const VERSION_SEALED = 2;
const HEADER_BYTES = 20;
const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export interface SnapshotFileInfo {
  readonly index: number;
  readonly term: number;
  readonly file: string;
}

export interface SnapshotStoreOptions {
  /** How many snapshot files to retain (at least 2, so a damaged newest one can fall back to the previous). */
  readonly keep?: number;
  readonly logger?: RaftLogger;
  /** Seals snapshot data on write and opens it on read; absent: clear. */
  readonly cipher?: PayloadCipher;
}

function snapName(index: number, term: number): string {
  return `${index.toString(16).padStart(16, '0')}-${term.toString(16).padStart(16, '0')}.snap`;
}

export function encodeSnapshotFile(snapshot: Snapshot, cipher?: PayloadCipher): Uint8Array[] {
  const { index, term, confState } = snapshot.metadata;
  const meta = Buffer.from(
    JSON.stringify({ index, term, confState: { voters: [...confState.voters], learners: [...confState.learners] } }),
    'utf8',
  );
  const header = Buffer.alloc(HEADER_BYTES + 4);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(cipher ? VERSION_SEALED : VERSION_CLEAR, 8);
  header.writeUInt32LE(meta.length, 20);
  const data = cipher ? cipher.seal(snapshot.data, sealContext('snapshot', index, term)) : snapshot.data;
  let crc = crc32c(header, 0, 20, 24);
  crc = crc32c(meta, crc);
  crc = crc32c(data, crc);
  header.writeUInt32LE(crc, 16);
  return [header, meta, data];
}

/**
 * Parses and verifies a snapshot file; returns a reason string when it is damaged. Sealed data without a
 * key to open it throws SealedPayloadError('unknown-key'): that is not damage.
 */
export function decodeSnapshotFile(buf: Buffer, cipher?: PayloadCipher): Snapshot | string {
  return decodeSnapshotFileWithKeyState(buf, cipher).snapshot;
}

/** As decodeSnapshotFile, also saying whether the data is in clear or under an older key (to be resealed). */
export function decodeSnapshotFileWithKeyState(buf: Buffer, cipher?: PayloadCipher): { snapshot: Snapshot | string; stale: boolean } {
  if (buf.length < HEADER_BYTES + 4) return { snapshot: `file too short (${buf.length} bytes)`, stale: false };
  if (!buf.subarray(0, 8).equals(MAGIC)) return { snapshot: 'bad magic', stale: false };
  const version = buf.readUInt32LE(8);
  if (version !== VERSION_CLEAR && version !== VERSION_SEALED) return { snapshot: `unsupported snapshot version ${version}`, stale: false };
  const parsed = parseVerified(buf);
  if (typeof parsed === 'string') return { snapshot: parsed, stale: false };
  if (version === VERSION_CLEAR) return { snapshot: parsed, stale: cipher !== undefined };
  if (!cipher) throw new SealedPayloadError('unknown-key', 'the snapshot is sealed, and no data key was given');
  const { index, term } = parsed.metadata;
  try {
    const data = cipher.open(parsed.data, sealContext('snapshot', index, term));
    return { snapshot: { metadata: parsed.metadata, data }, stale: !cipher.isCurrent(parsed.data) };
  } catch (err) {
    if (err instanceof SealedPayloadError && err.reason === 'damaged') return { snapshot: err.message, stale: false };
    throw err;
  }
}

function parseVerified(buf: Buffer): Snapshot | string {
  const want = buf.readUInt32LE(16);
  const got = crc32c(buf, 0, 20);
  if (want !== got) return `CRC mismatch (stored 0x${want.toString(16)}, computed 0x${got.toString(16)})`;
  const metaLen = buf.readUInt32LE(20);
  if (metaLen > buf.length - 24) return 'metadata length beyond end of file';
  let meta: unknown;
  try {
    meta = JSON.parse(buf.toString('utf8', 24, 24 + metaLen));
  } catch {
    return 'metadata is not JSON';
  }
  if (!isMeta(meta)) return 'metadata has the wrong shape';
  return {
    metadata: { index: meta.index, term: meta.term, confState: meta.confState },
    data: new Uint8Array(buf.subarray(24 + metaLen)),
  };
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function isMeta(v: unknown): v is { index: number; term: number; confState: ConfState } {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const cs = o['confState'] as Record<string, unknown> | undefined;
  return (
    Number.isSafeInteger(o['index']) &&
    Number.isSafeInteger(o['term']) &&
    typeof cs === 'object' &&
    cs !== null &&
    isStringArray(cs['voters']) &&
    isStringArray(cs['learners'])
  );
}

export class SnapshotStore {
  private readonly keep: number;
  private readonly logger: RaftLogger;
  private readonly cipher: PayloadCipher | undefined;

  private constructor(
    readonly dir: string,
    options: SnapshotStoreOptions,
  ) {
    this.keep = Math.max(2, options.keep ?? 2);
    this.logger = options.logger ?? silentLogger;
    this.cipher = options.cipher;
  }

  /**
   * Opens the snapshot directory and loads the newest valid snapshot. Damaged snapshots are renamed to
   * `*.corrupt` (kept for inspection, never loaded again) and reported; the next older one is tried.
   */
  static async open(
    dir: string,
    options: SnapshotStoreOptions = {},
  ): Promise<{ store: SnapshotStore; snapshot: Snapshot | null; repairs: StorageRepair[]; stale: boolean }> {
    const store = new SnapshotStore(dir, options);
    await ensurePrivateDir(dir);
    const repairs: StorageRepair[] = [];
    let changed = false;
    for (const name of await fs.readdir(dir)) {
      if (name.endsWith('.snap.tmp')) {
        await fs.rm(path.join(dir, name), { force: true });
        changed = true;
        const repair: StorageRepair = { kind: 'temp-file-removed', file: path.join(dir, name), reason: 'unfinished snapshot write' };
        repairs.push(repair);
        store.logger('warn', 'removed an unfinished snapshot file', { ...repair });
      }
    }
    let snapshot: Snapshot | null = null;
    let stale = false;
    for (const info of await store.list()) {
      const buf = await fs.readFile(info.file);
      if (snapshot) {
        // An older snapshot kept as a fallback: only whether it needs resealing matters now.
        stale ||= needsReseal(buf, options.cipher);
        continue;
      }
      const withState = store.decode(info.file, buf);
      stale ||= withState.stale;
      const decoded = withState.snapshot;
      let reason: string | null = null;
      if (typeof decoded === 'string') reason = decoded;
      else if (decoded.metadata.index !== info.index || decoded.metadata.term !== info.term) {
        reason = `file name says index ${info.index} term ${info.term}, contents say index ${decoded.metadata.index} term ${decoded.metadata.term}`;
      }
      if (reason === null && typeof decoded !== 'string') {
        snapshot = decoded;
        continue;
      }
      await fs.rename(info.file, `${info.file}.corrupt`);
      changed = true;
      const repair: StorageRepair = { kind: 'snapshot-corrupt', file: info.file, reason: `${reason}; renamed to ${path.basename(info.file)}.corrupt, trying an older snapshot` };
      repairs.push(repair);
      store.logger('error', 'snapshot file is damaged; falling back to an older one', { ...repair });
    }
    if (changed) await fsyncDir(dir);
    return { store, snapshot, repairs, stale };
  }

  private decode(file: string, buf: Buffer): { snapshot: Snapshot | string; stale: boolean } {
    try {
      return decodeSnapshotFileWithKeyState(buf, this.cipher);
    } catch (err) {
      if (err instanceof SealedPayloadError) throw new DataKeyMissingError(file, err.message);
      throw err;
    }
  }

  /**
   * Rewrites every retained snapshot with the cipher's current key, each atomically under its own name.
   * A file that does not decode is left for the next open to set aside.
   */
  async reseal(): Promise<void> {
    for (const info of await this.list()) {
      const decoded = this.decode(info.file, await fs.readFile(info.file)).snapshot;
      if (typeof decoded === 'string') continue;
      await writeFileAtomic(this.dir, path.basename(info.file), encodeSnapshotFile(decoded, this.cipher));
    }
  }

  /** Snapshot files present, newest first. */
  async list(): Promise<SnapshotFileInfo[]> {
    const out: SnapshotFileInfo[] = [];
    for (const name of await fs.readdir(this.dir)) {
      const m = SNAP_NAME.exec(name);
      if (m) out.push({ index: parseInt(m[1]!, 16), term: parseInt(m[2]!, 16), file: path.join(this.dir, name) });
    }
    return out.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /** Writes the snapshot durably (temp file, fsync, rename, fsync directory), then prunes beyond `keep`. */
  async save(snapshot: Snapshot): Promise<SnapshotFileInfo> {
    const { index, term } = snapshot.metadata;
    const name = snapName(index, term);
    await writeFileAtomic(this.dir, name, encodeSnapshotFile(snapshot, this.cipher));
    const all = await this.list();
    let pruned = false;
    for (const old of all.slice(this.keep)) {
      try {
        await fs.rm(old.file);
        pruned = true;
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    if (pruned) await fsyncDir(this.dir);
    this.logger('debug', 'saved a snapshot', { index, term, bytes: snapshot.data.byteLength });
    return { index, term, file: path.join(this.dir, name) };
  }
}

/** Whether a snapshot file is in clear, or sealed with another key than the cipher's current one. */
function needsReseal(buf: Buffer, cipher: PayloadCipher | undefined): boolean {
  if (!cipher || buf.length < HEADER_BYTES + 4 || !buf.subarray(0, 8).equals(MAGIC)) return false;
  const version = buf.readUInt32LE(8);
  if (version === VERSION_CLEAR) return true;
  const metaLen = buf.readUInt32LE(20);
  return version === VERSION_SEALED && metaLen <= buf.length - 24 && !cipher.isCurrent(buf.subarray(24 + metaLen));
}

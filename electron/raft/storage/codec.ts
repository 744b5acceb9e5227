// Binary encoding of WAL records.
//
// Frame (little-endian):   [length u32][crc u32][payload: length bytes]
//   crc = CRC-32C over the 4 length bytes followed by the payload, so a damaged length is caught too.
// Payload: [kind u8] ...
//   kind 1 SEGMENT_HEADER  [version u8][segment sequence u64]            — first record of every segment
//   kind 2 BATCH           [flags u8]                                     — exactly one per save()
//                          flags & 1: snapshot marker [index u64][term u64]
//                          flags & 2: entries [count u32] { [index u64][term u64][type u8][length u32][data] }*
//                          flags & 4: hard state [term u64][commit u64][vote length u16, 0xffff = none][vote utf8]
//                          flags & 8: each entry's data is sealed by the storage's PayloadCipher (cipher.ts),
//                                     bound to its index and term; index, term and type stay readable
// u64 values are written as two u32 halves (low first) and must be safe integers.
// A save is one record, so a crash during a save can only tear that one record at the very end of the log.

import type { Entry, EntryType, HardState } from '../types.js';
import { SealedPayloadError, sealContext, type PayloadCipher } from './cipher.js';
import { crc32c } from './crc32c.js';

export const FRAME_HEADER_BYTES = 8;
export const WAL_VERSION = 1;
/** Refuse to believe a length larger than this (a damaged length field would otherwise ask for gigabytes). */
export const MAX_RECORD_BYTES = 1 << 30;

export const KIND_SEGMENT_HEADER = 1;
export const KIND_BATCH = 2;

const FLAG_MARKER = 1;
const FLAG_ENTRIES = 2;
const FLAG_HARD_STATE = 4;
const FLAG_SEALED = 8;
const NO_VOTE = 0xffff;
const TWO_32 = 0x1_0000_0000;

export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
}

export type WalRecord =
  | { readonly kind: 'header'; readonly version: number; readonly seq: number }
  | {
      readonly kind: 'batch';
      readonly marker: SnapshotMarker | null;
      readonly entries: Entry[];
      readonly hardState: HardState | null;
      /** Entries written in clear, or sealed with a key other than the cipher's current one: to be resealed. */
      readonly stale: boolean;
    };

/** A payload whose CRC matched but whose contents make no sense: a bug or deliberate damage, never a torn write. */
export class RecordDecodeError extends Error {
  override readonly name = 'RecordDecodeError';
}

function entryTypeCode(t: EntryType): number {
  return t === 'confChange' ? 1 : 0;
}

function checkU64(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${v}`);
}

function putU64(buf: Buffer, off: number, v: number): number {
  buf.writeUInt32LE(v >>> 0, off);
  buf.writeUInt32LE(Math.floor(v / TWO_32), off + 4);
  return off + 8;
}

function getU64(buf: Buffer, off: number): number {
  const v = buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * TWO_32;
  if (!Number.isSafeInteger(v)) throw new RecordDecodeError(`u64 at payload offset ${off} is not a safe integer`);
  return v;
}

/** Fills in length and CRC of a frame whose payload is already written at buf[8, 8+len). */
function sealFrame(buf: Buffer, payloadLength: number): Buffer {
  buf.writeUInt32LE(payloadLength, 0);
  const crc = crc32c(buf, crc32c(buf, 0, 0, 4), FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + payloadLength);
  buf.writeUInt32LE(crc, 4);
  return buf;
}

export function encodeSegmentHeader(seq: number): Buffer {
  checkU64(seq, 'segment sequence');
  const payload = 1 + 1 + 8;
  const buf = Buffer.alloc(FRAME_HEADER_BYTES + payload);
  buf[8] = KIND_SEGMENT_HEADER;
  buf[9] = WAL_VERSION;
  putU64(buf, 10, seq);
  return sealFrame(buf, payload);
}

/** Encodes one save() as one framed record. Entries must be contiguous and ascending. */
export function encodeBatch(hardState: HardState | null, entries: readonly Entry[], marker: SnapshotMarker | null, cipher?: PayloadCipher): Buffer {
  if (cipher && entries.length > 0) {
    entries = entries.map((e) => ({ ...e, data: cipher.seal(e.data, sealContext('entry', e.index, e.term)) }));
  }
  let size = 2;
  let vote: Buffer | null = null;
  if (marker) {
    checkU64(marker.index, 'snapshot index');
    checkU64(marker.term, 'snapshot term');
    size += 16;
  }
  if (entries.length > 0) {
    size += 4;
    let prev = -1;
    for (const e of entries) {
      checkU64(e.index, 'entry index');
      checkU64(e.term, 'entry term');
      if (prev !== -1 && e.index !== prev + 1) {
        throw new RangeError(`entries to save are not contiguous: ${e.index} follows ${prev}`);
      }
      prev = e.index;
      size += 21 + e.data.byteLength;
    }
  }
  if (hardState) {
    checkU64(hardState.term, 'hard state term');
    checkU64(hardState.commit, 'hard state commit');
    size += 18;
    if (hardState.vote !== null) {
      vote = Buffer.from(hardState.vote, 'utf8');
      if (vote.byteLength >= NO_VOTE) throw new RangeError('vote is too long');
      size += vote.byteLength;
    }
  }
  if (size > MAX_RECORD_BYTES) throw new RangeError(`a single save of ${size} bytes exceeds ${MAX_RECORD_BYTES}`);
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  let o = FRAME_HEADER_BYTES;
  buf[o++] = KIND_BATCH;
  buf[o++] =
    (marker ? FLAG_MARKER : 0) | (entries.length > 0 ? FLAG_ENTRIES : 0) | (hardState ? FLAG_HARD_STATE : 0) | (cipher && entries.length > 0 ? FLAG_SEALED : 0);
  if (marker) {
    o = putU64(buf, o, marker.index);
    o = putU64(buf, o, marker.term);
  }
  if (entries.length > 0) {
    buf.writeUInt32LE(entries.length, o);
    o += 4;
    for (const e of entries) {
      o = putU64(buf, o, e.index);
      o = putU64(buf, o, e.term);
      buf[o++] = entryTypeCode(e.type);
      buf.writeUInt32LE(e.data.byteLength, o);
      o += 4;
      buf.set(e.data, o);
      o += e.data.byteLength;
    }
  }
  if (hardState) {
    o = putU64(buf, o, hardState.term);
    o = putU64(buf, o, hardState.commit);
    if (vote) {
      buf.writeUInt16LE(vote.byteLength, o);
      o += 2;
      buf.set(vote, o);
      o += vote.byteLength;
    } else {
      buf.writeUInt16LE(NO_VOTE, o);
      o += 2;
    }
  }
  return sealFrame(buf, size);
}

export type FrameCheck =
  | { readonly ok: true; readonly payloadStart: number; readonly payloadEnd: number }
  | { readonly ok: false; readonly reason: string };

/** Checks the frame at `off`: enough bytes for header and payload, and a matching CRC. */
export function checkFrame(buf: Buffer, off: number): FrameCheck {
  const remaining = buf.length - off;
  if (remaining < FRAME_HEADER_BYTES) return { ok: false, reason: `short record header (${remaining} bytes)` };
  const len = buf.readUInt32LE(off);
  if (len === 0) return { ok: false, reason: 'zero record length' };
  if (len > MAX_RECORD_BYTES) return { ok: false, reason: `implausible record length ${len}` };
  if (len > remaining - FRAME_HEADER_BYTES) {
    return { ok: false, reason: `short record payload (${remaining - FRAME_HEADER_BYTES} of ${len} bytes)` };
  }
  const start = off + FRAME_HEADER_BYTES;
  const want = buf.readUInt32LE(off + 4);
  const got = crc32c(buf, crc32c(buf, 0, off, off + 4), start, start + len);
  if (want !== got) return { ok: false, reason: `CRC mismatch (stored 0x${hex32(want)}, computed 0x${hex32(got)})` };
  return { ok: true, payloadStart: start, payloadEnd: start + len };
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, '0');
}

/**
 * Decodes a payload whose frame already checked out, opening sealed entry data with `cipher`. Sealed data
 * that fails authentication is a RecordDecodeError (corruption); sealed data without a key to open it
 * throws SealedPayloadError('unknown-key').
 */
export function decodePayload(buf: Buffer, start: number, end: number, cipher?: PayloadCipher): WalRecord {
  const p = buf.subarray(start, end);
  const need = (o: number, n: number): void => {
    if (o + n > p.length) throw new RecordDecodeError(`payload ends early (${p.length} bytes, needed ${o + n})`);
  };
  need(0, 1);
  const kind = p[0];
  if (kind === KIND_SEGMENT_HEADER) {
    need(1, 9);
    const rec: WalRecord = { kind: 'header', version: p[1]!, seq: getU64(p, 2) };
    if (p.length !== 10) throw new RecordDecodeError('segment header has trailing bytes');
    return rec;
  }
  if (kind !== KIND_BATCH) throw new RecordDecodeError(`unknown record kind ${kind}`);
  need(1, 1);
  const flags = p[1]!;
  if (flags & ~(FLAG_MARKER | FLAG_ENTRIES | FLAG_HARD_STATE | FLAG_SEALED)) throw new RecordDecodeError(`unknown batch flags ${flags}`);
  let o = 2;
  let marker: SnapshotMarker | null = null;
  const entries: Entry[] = [];
  let hardState: HardState | null = null;
  const sealed = (flags & FLAG_SEALED) !== 0;
  let stale = false;
  if (sealed && !cipher) throw new SealedPayloadError('unknown-key', 'entries are sealed, and no data key was given');
  if (flags & FLAG_MARKER) {
    need(o, 16);
    marker = { index: getU64(p, o), term: getU64(p, o + 8) };
    o += 16;
  }
  if (flags & FLAG_ENTRIES) {
    need(o, 4);
    const count = p.readUInt32LE(o);
    o += 4;
    for (let i = 0; i < count; i++) {
      need(o, 21);
      const index = getU64(p, o);
      const term = getU64(p, o + 8);
      const typeCode = p[o + 16]!;
      const len = p.readUInt32LE(o + 17);
      o += 21;
      need(o, len);
      if (typeCode > 1) throw new RecordDecodeError(`unknown entry type ${typeCode}`);
      const prev = entries[entries.length - 1];
      if (prev && index !== prev.index + 1) throw new RecordDecodeError(`entry ${index} follows ${prev.index}`);
      let data: Uint8Array;
      if (sealed) {
        const sealedData = p.subarray(o, o + len);
        try {
          data = cipher!.open(sealedData, sealContext('entry', index, term));
        } catch (err) {
          if (err instanceof SealedPayloadError && err.reason === 'damaged') throw new RecordDecodeError(`entry ${index}: ${err.message}`);
          throw err;
        }
        if (!cipher!.isCurrent(sealedData)) stale = true;
      } else {
        // Copy: a view would pin the whole segment buffer in memory for as long as the entry lives.
        data = new Uint8Array(p.subarray(o, o + len));
        if (cipher) stale = true;
      }
      entries.push({ index, term, type: typeCode === 1 ? 'confChange' : 'normal', data });
      o += len;
    }
  }
  if (flags & FLAG_HARD_STATE) {
    need(o, 18);
    const term = getU64(p, o);
    const commit = getU64(p, o + 8);
    const voteLen = p.readUInt16LE(o + 16);
    o += 18;
    let vote: string | null = null;
    if (voteLen !== NO_VOTE) {
      need(o, voteLen);
      vote = p.toString('utf8', o, o + voteLen);
      o += voteLen;
    }
    hardState = { term, vote, commit };
  }
  if (o !== p.length) throw new RecordDecodeError(`batch has ${p.length - o} trailing bytes`);
  return { kind: 'batch', marker, entries, hardState, stale };
}

// Encryption at rest: the codec the storage passes each WAL entry's data and each snapshot's data
// through. Only data is sealed; index, term, hard state and framing stay readable, so recovery (torn
// tails, corruption, consistency) works without a key. The storage knows nothing of where keys come
// from: the embedding process hands it a `PayloadCipher` (Skep's swarm layer: its data key, wrapped
// by the unlock key when autolock is on). `AesGcmCipher` is the one implementation (node:crypto).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface PayloadCipher {
  /** Seals with the current key. `context` (the data's index and term) is authenticated, not stored. */
  seal(plain: Uint8Array, context: Uint8Array): Uint8Array;
  /** Opens with whichever known key sealed it; throws `SealedPayloadError`. */
  open(sealed: Uint8Array, context: Uint8Array): Uint8Array;
  /** Whether `sealed` was sealed with the key `seal` uses now (else the storage reseals it). */
  isCurrent(sealed: Uint8Array): boolean;
}

/** A sealed payload that does not open: damaged (or moved to another index), or sealed with an unknown key. */
export class SealedPayloadError extends Error {
  override readonly name = 'SealedPayloadError';
  constructor(
    readonly reason: 'damaged' | 'unknown-key',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Data on disk was sealed with a key this process was not given (or none at all): refusing to start,
 * and changing nothing — it is not damage, so nothing is truncated or set aside.
 */
export class DataKeyMissingError extends Error {
  override readonly name = 'DataKeyMissingError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`Raft data in ${file} is encrypted with a data key this node does not have (${detail}). Refusing to start.`);
  }
}

/** The 8-byte id a sealed payload names its key by: a hash of the key, never the key. */
export function dataKeyId(key: Uint8Array): Buffer {
  return createHash('sha256').update('skep raft data key id\0').update(key).digest().subarray(0, 8);
}

const FORMAT = 1;
const ID_BYTES = 8;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const OVERHEAD = 1 + ID_BYTES + NONCE_BYTES + TAG_BYTES;

/**
 * AES-256-GCM with a random 96-bit nonce per payload: [format u8][key id 8][nonce 12][ciphertext][tag 16].
 * Seals with `current`; opens with `current` or any of `previous` (a rotation in progress).
 */
export class AesGcmCipher implements PayloadCipher {
  private currentKey!: Buffer;
  private currentId!: Buffer;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Uint8Array, previous: readonly Uint8Array[] = []) {
    this.setKeys(current, previous);
  }

  /** Replaces the key ring (after a rotation: the new key current, the old one readable until resealed). */
  setKeys(current: Uint8Array, previous: readonly Uint8Array[] = []): void {
    for (const key of [current, ...previous]) if (key.byteLength !== 32) throw new RangeError('an AES-256 data key is 32 bytes');
    this.keys.clear();
    this.currentKey = Buffer.from(current);
    this.currentId = dataKeyId(current);
    this.keys.set(this.currentId.toString('hex'), this.currentKey);
    for (const key of previous) this.keys.set(dataKeyId(key).toString('hex'), Buffer.from(key));
  }

  seal(plain: Uint8Array, context: Uint8Array): Uint8Array {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.currentKey, nonce);
    cipher.setAAD(context);
    const body = cipher.update(plain);
    const rest = cipher.final();
    return Buffer.concat([Buffer.of(FORMAT), this.currentId, nonce, body, rest, cipher.getAuthTag()]);
  }

  open(sealed: Uint8Array, context: Uint8Array): Uint8Array {
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (buf.length < OVERHEAD) throw new SealedPayloadError('damaged', `sealed payload too short (${buf.length} bytes)`);
    if (buf[0] !== FORMAT) throw new SealedPayloadError('damaged', `unknown sealed payload format ${buf[0]}`);
    const id = buf.subarray(1, 1 + ID_BYTES).toString('hex');
    const key = this.keys.get(id);
    if (!key) throw new SealedPayloadError('unknown-key', `sealed with data key ${id}, which this node does not hold`);
    const nonce = buf.subarray(1 + ID_BYTES, 1 + ID_BYTES + NONCE_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(context);
    decipher.setAuthTag(tag);
    try {
      return new Uint8Array(Buffer.concat([decipher.update(buf.subarray(1 + ID_BYTES + NONCE_BYTES, buf.length - TAG_BYTES)), decipher.final()]));
    } catch {
      throw new SealedPayloadError('damaged', 'sealed payload failed authentication (altered, or moved from another index)');
    }
  }

  isCurrent(sealed: Uint8Array): boolean {
    return sealed.byteLength >= 1 + ID_BYTES && Buffer.from(sealed.buffer, sealed.byteOffset + 1, ID_BYTES).equals(this.currentId);
  }
}

/** What a sealed payload is bound to: its kind, index and term. */
export function sealContext(kind: 'entry' | 'snapshot', index: number, term: number): Buffer {
  const buf = Buffer.alloc(1 + 16);
  buf[0] = kind === 'entry' ? 1 : 2;
  buf.writeUInt32LE(index >>> 0, 1);
  buf.writeUInt32LE(Math.floor(index / 0x1_0000_0000), 5);
  buf.writeUInt32LE(term >>> 0, 9);
  buf.writeUInt32LE(Math.floor(term / 0x1_0000_0000), 13);
  return buf;
}

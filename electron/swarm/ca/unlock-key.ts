// Autolock's keys, as Swarm's: the unlock key is a key-encryption key (32 random bytes, shown as
// `SKEPKEY-1-<unpadded base64>`, as Swarm's `SWMKEY-1-…`) replicated through Raft; each manager
// wraps its Raft data key and its TLS private key with it. Wrapping is AES-256-GCM with the
// wrapped thing's purpose as associated data, so a wrong key is told apart from a right one.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const UNLOCK_KEY_PREFIX = 'SKEPKEY-1-';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export type WrapPurpose = 'raft-data-key' | 'node-private-key';

export function newUnlockKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** A fresh Raft data key (DEK) for one manager. */
export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export function formatUnlockKey(key: Uint8Array): string {
  return UNLOCK_KEY_PREFIX + Buffer.from(key).toString('base64').replace(/=+$/, '');
}

/** The key inside `SKEPKEY-1-…`, or null for anything else (never echoed: it is a secret). */
export function parseUnlockKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith(UNLOCK_KEY_PREFIX)) return null;
  const body = trimmed.slice(UNLOCK_KEY_PREFIX.length);
  if (!/^[A-Za-z0-9+/]{43}$/.test(body)) return null;
  const key = Buffer.from(body, 'base64');
  return key.length === KEY_BYTES ? key : null;
}

/** A short public name for an unlock key (a hash), so a file can say which key wrapped it. */
export function unlockKeyId(key: Uint8Array): string {
  return createHash('sha256').update('skep unlock key id\0').update(key).digest('hex').slice(0, 16);
}

/** Wraps a secret under the unlock key: base64 of [nonce 12][ciphertext][tag 16]. */
export function wrapSecret(kek: Uint8Array, secret: Uint8Array, purpose: WrapPurpose): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(Buffer.from(purpose));
  const body = Buffer.concat([cipher.update(secret), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

/** Unwraps, or returns null when `kek` is not the key that wrapped it (or the text was altered). */
export function unwrapSecret(kek: Uint8Array, wrapped: string, purpose: WrapPurpose): Buffer | null {
  const buf = Buffer.from(wrapped, 'base64');
  if (buf.length < NONCE_BYTES + TAG_BYTES) return null;
  const decipher = createDecipheriv('aes-256-gcm', kek, buf.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(purpose));
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
}

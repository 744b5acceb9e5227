import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatUnlockKey, newUnlockKey, parseUnlockKey, unlockKeyId, unwrapSecret, wrapSecret } from '../../../electron/swarm/ca/unlock-key.js';

describe('unlock keys (SKEPKEY-1-…)', () => {
  it('formats 32 bytes as SKEPKEY-1- and unpadded base64, and parses it back', () => {
    const key = newUnlockKey();
    const text = formatUnlockKey(key);
    expect(text).toMatch(/^SKEPKEY-1-[A-Za-z0-9+/]{43}$/);
    expect(parseUnlockKey(`  ${text}\n`)?.equals(key)).toBe(true);
  });

  it('refuses anything else, without a word about it', () => {
    const body = formatUnlockKey(newUnlockKey()).slice('SKEPKEY-1-'.length);
    for (const text of ['', 'SKEPKEY-1-', `SWMKEY-1-${body}`, `SKEPKEY-2-${body}`, `SKEPKEY-1-${body}A`, `SKEPKEY-1-${body.slice(1)}`, `SKEPKEY-1-${body.slice(0, -1)}!`]) {
      expect(parseUnlockKey(text)).toBeNull();
    }
  });

  it('names a key by a hash, stable and distinct', () => {
    const key = newUnlockKey();
    expect(unlockKeyId(key)).toBe(unlockKeyId(Buffer.from(key)));
    expect(unlockKeyId(key)).not.toBe(unlockKeyId(newUnlockKey()));
    expect(unlockKeyId(key)).not.toContain(key.toString('hex').slice(0, 8));
  });
});

describe('wrapping with the unlock key', () => {
  const secret = Buffer.from('-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n');

  it('unwraps with the same key and purpose only', () => {
    const kek = newUnlockKey();
    const wrapped = wrapSecret(kek, secret, 'node-private-key');
    expect(wrapped).not.toContain('PRIVATE');
    expect(unwrapSecret(kek, wrapped, 'node-private-key')?.equals(secret)).toBe(true);
    expect(unwrapSecret(newUnlockKey(), wrapped, 'node-private-key')).toBeNull();
    expect(unwrapSecret(kek, wrapped, 'raft-data-key')).toBeNull();
  });

  it('says null, not garbage, for an altered or truncated wrap', () => {
    const kek = newUnlockKey();
    const wrapped = Buffer.from(wrapSecret(kek, randomBytes(32), 'raft-data-key'), 'base64');
    wrapped[14]! ^= 1;
    expect(unwrapSecret(kek, wrapped.toString('base64'), 'raft-data-key')).toBeNull();
    expect(unwrapSecret(kek, 'AAAA', 'raft-data-key')).toBeNull();
  });
});

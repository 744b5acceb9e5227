import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../electron/raft/storage/crc32c.js';

/** Bit-at-a-time reference, straight from the definition. */
function reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c (Castagnoli)', () => {
  it('matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
  });

  it('matches the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('is 0 for no bytes', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('agrees with the bitwise definition for every length and alignment up to 64', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff;
    const buf = Uint8Array.from({ length: 80 }, rnd);
    for (let start = 0; start < 8; start++) {
      for (let len = 0; len <= 64; len++) {
        expect(crc32c(buf, 0, start, start + len)).toBe(reference(buf.subarray(start, start + len)));
      }
    }
  });

  it('continues across pieces', () => {
    const all = Buffer.from('The quick brown fox jumps over the lazy dog', 'ascii');
    for (let cut = 0; cut <= all.length; cut++) {
      expect(crc32c(all.subarray(cut), crc32c(all.subarray(0, cut)))).toBe(crc32c(all));
    }
  });
});

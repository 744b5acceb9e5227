import { X509Certificate, createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SkepError } from '../../../shared/errors.js';
import {
  JoinTokens,
  caDigest,
  createRootCA,
  generateJoinToken,
  parseJoinToken,
  tokenSecretMatches,
  verifyCaDigest,
  type CertificateAuthority,
} from '../../../electron/swarm/ca/index.js';

let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
beforeAll(async () => {
  [ca, otherCa] = await Promise.all([createRootCA(), createRootCA()]);
});

describe('join tokens', () => {
  it('have the shape SKEP-1-<50-char CA digest>-<25-char secret>', () => {
    const token = generateJoinToken(ca.certPem);
    expect(token).toMatch(/^SKEP-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
    const parsed = parseJoinToken(token);
    // The digest is SHA-256 of the CA certificate's DER, in base36, zero-padded to 50.
    const hex = createHash('sha256').update(new X509Certificate(ca.certPem).raw).digest('hex');
    expect(parsed.caDigest).toBe(BigInt(`0x${hex}`).toString(36).padStart(50, '0'));
    expect(parsed.caDigest).toBe(caDigest(ca.certPem));
    expect(token.endsWith(parsed.secret)).toBe(true);
    expect(generateJoinToken(ca.certPem)).not.toBe(token);
  });

  it('are parsed strictly, and the error never echoes the token', () => {
    const good = generateJoinToken(ca.certPem);
    const { caDigest: digest, secret } = parseJoinToken(good);
    const malformed: unknown[] = [
      '',
      'SKEP-1',
      good.toUpperCase(),
      good.replace('SKEP-1-', 'SWMTKN-1-'),
      good.replace('SKEP-1-', 'SKEP-2-'),
      `${good}x`,
      ` ${good}`,
      `${good}\n`,
      good.slice(0, -1),
      `SKEP-1-${digest}-${secret.slice(0, 24)}_`,
      `SKEP-1-${digest.slice(1)}-${secret}a`,
      `SKEP-1-${digest}${secret}`,
      `SKEP-1-${'z'.repeat(50)}-${secret}`, // exceeds 2^256
      `SKEP-1-${digest}-${'z'.repeat(25)}`, // exceeds 2^128
      good.replace(/-/g, '_'),
      null,
      undefined,
      42,
      { token: good },
      'x'.repeat(1_000_000),
    ];
    for (const input of malformed) {
      let error: unknown;
      try {
        parseJoinToken(input);
      } catch (e) {
        error = e;
      }
      expect(error, String(input).slice(0, 20)).toBeInstanceOf(SkepError);
      const e = error as SkepError;
      expect(e.code).toBe('INVALID_JOIN_TOKEN');
      expect(e.message).toBe('invalid join token');
      expect(e.details).toBeUndefined();
      expect(e.message).not.toContain(secret);
      expect(JSON.stringify(e.toEnvelope())).not.toContain(secret.slice(0, 8));
    }
  });

  it('name their CA by digest', () => {
    const token = generateJoinToken(ca.certPem);
    expect(verifyCaDigest(token, ca.certPem)).toBe(true);
    expect(verifyCaDigest(token, otherCa.certPem)).toBe(false);
    expect(verifyCaDigest(parseJoinToken(token), ca.certPem)).toBe(true);
  });

  it('compare secrets in constant time, any length included', () => {
    const { secret } = parseJoinToken(generateJoinToken(ca.certPem));
    expect(tokenSecretMatches(secret, secret)).toBe(true);
    expect(tokenSecretMatches(`${secret.slice(0, 24)}${secret.endsWith('0') ? '1' : '0'}`, secret)).toBe(false);
    expect(tokenSecretMatches(secret.slice(1), secret)).toBe(false);
    expect(tokenSecretMatches('', secret)).toBe(false);
  });
});

describe('JoinTokens', () => {
  it('keeps separate worker and manager tokens and grants the role of the one that matches', () => {
    const tokens = new JoinTokens(ca.certPem);
    const worker = parseJoinToken(tokens.token('worker'));
    const manager = parseJoinToken(tokens.token('manager'));
    expect(worker.secret).not.toBe(manager.secret);
    expect(worker.caDigest).toBe(caDigest(ca.certPem));
    expect(tokens.match(worker.secret)).toBe('swarm-worker');
    expect(tokens.match(manager.secret)).toBe('swarm-manager');
    expect(tokens.match(parseJoinToken(generateJoinToken(ca.certPem)).secret)).toBeNull();
  });

  it('rotation rejects the old token of that role only', () => {
    const tokens = new JoinTokens(ca.certPem);
    const oldWorker = parseJoinToken(tokens.token('worker')).secret;
    const manager = parseJoinToken(tokens.token('manager')).secret;
    const newWorker = parseJoinToken(tokens.rotate('worker')).secret;
    expect(newWorker).not.toBe(oldWorker);
    expect(tokens.match(oldWorker)).toBeNull();
    expect(tokens.match(newWorker)).toBe('swarm-worker');
    expect(tokens.match(manager)).toBe('swarm-manager');
  });

  it('restores persisted secrets and follows a new CA', () => {
    const tokens = new JoinTokens(ca.certPem);
    const restored = new JoinTokens(ca.certPem, tokens.secrets());
    expect(restored.token('worker')).toBe(tokens.token('worker'));
    restored.setCaCertificate(otherCa.certPem);
    expect(verifyCaDigest(restored.token('manager'), otherCa.certPem)).toBe(true);
    expect(() => new JoinTokens(ca.certPem, { worker: 'short', manager: 'x' })).toThrow(SkepError);
  });
});

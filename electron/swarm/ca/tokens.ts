// Join tokens, in Swarm's shape: SKEP-1-<CA digest>-<secret>.
//  - CA digest: SHA-256 of the CA certificate's DER, base36, zero-padded to 50 characters. It is
//    public; it lets a joining node recognise the swarm's CA before trusting anything.
//  - secret: 128 random bits, base36, 25 characters. It is what a node proves to get a certificate.
// A token is a secret as a whole: it never goes into logs, error messages or argv.

import { timingSafeEqual } from 'node:crypto';
import { skepError } from '../../../shared/errors.js';
import type { NodeRole } from '../../net/index.js';
import { bytesToBase36, randomBase36Id } from './ids.js';
import { certificateSha256 } from './pki.js';

export const TOKEN_PREFIX = 'SKEP';
export const TOKEN_VERSION = '1';
export const CA_DIGEST_LENGTH = 50;
export const SECRET_LENGTH = 25;

const TOKEN_PATTERN = /^SKEP-1-([0-9a-z]{50})-([0-9a-z]{25})$/;
const MAX_DIGEST = 1n << 256n;
const MAX_SECRET = 1n << 128n;

export type TokenRole = 'worker' | 'manager';

export interface ParsedJoinToken {
  /** base36, 50 characters. */
  readonly caDigest: string;
  /** base36, 25 characters. Secret. */
  readonly secret: string;
}

export function nodeRoleForToken(role: TokenRole): NodeRole {
  return role === 'manager' ? 'swarm-manager' : 'swarm-worker';
}

/** The CA digest as it appears in a token. */
export function caDigest(caCertPem: string): string {
  return bytesToBase36(certificateSha256(caCertPem), CA_DIGEST_LENGTH);
}

/** The CA digest in hex, as Swarm prints it in "remote CA does not match fingerprint". */
export function caDigestHex(caDigestBase36: string): string {
  return parseBase36(caDigestBase36).toString(16).padStart(64, '0');
}

function parseBase36(text: string): bigint {
  let n = 0n;
  for (const ch of text) n = n * 36n + BigInt(parseInt(ch, 36));
  return n;
}

export function generateSecret(): string {
  return randomBase36Id();
}

export function formatJoinToken(caDigestBase36: string, secret: string): string {
  return `${TOKEN_PREFIX}-${TOKEN_VERSION}-${caDigestBase36}-${secret}`;
}

/** A new token for the swarm whose CA certificate is caCertPem. */
export function generateJoinToken(caCertPem: string): string {
  return formatJoinToken(caDigest(caCertPem), generateSecret());
}

/**
 * Strict parse. Anything malformed is INVALID_JOIN_TOKEN with the catalog's fixed text: the input
 * is never echoed, not even a prefix, because a near-miss token is still mostly a secret.
 */
export function parseJoinToken(token: unknown): ParsedJoinToken {
  if (typeof token !== 'string' || token.length !== 4 + 1 + 1 + 1 + CA_DIGEST_LENGTH + 1 + SECRET_LENGTH) {
    throw skepError('INVALID_JOIN_TOKEN');
  }
  const m = TOKEN_PATTERN.exec(token);
  const digest = m?.[1];
  const secret = m?.[2];
  if (digest === undefined || secret === undefined) throw skepError('INVALID_JOIN_TOKEN');
  // 50 base36 digits can exceed 2^256 (and 25 can exceed 2^128): such a token was not generated.
  if (parseBase36(digest) >= MAX_DIGEST || parseBase36(secret) >= MAX_SECRET) throw skepError('INVALID_JOIN_TOKEN');
  return { caDigest: digest, secret };
}

/** Whether the token names this CA. The digest is public, so a plain comparison is fine. */
export function verifyCaDigest(token: string | ParsedJoinToken, caCertPem: string): boolean {
  const parsed = typeof token === 'string' ? parseJoinToken(token) : token;
  return parsed.caDigest === caDigest(caCertPem);
}

/** Constant-time secret comparison; unequal lengths are compared too, so length leaks no timing either. */
export function tokenSecretMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** What the join server needs: which role, if any, a presented secret grants. */
export interface JoinSecretMatcher {
  match(secret: string): NodeRole | null;
}

export interface JoinTokenSecrets {
  readonly worker: string;
  readonly manager: string;
}

/**
 * The swarm's two join tokens. Rotating one replaces its secret, so the old token stops working
 * and the other keeps working. Persist `secrets()` (it is secret) to survive restarts.
 */
export class JoinTokens implements JoinSecretMatcher {
  private digest: string;
  private current: { worker: string; manager: string };

  constructor(caCertPem: string, secrets?: JoinTokenSecrets) {
    this.digest = caDigest(caCertPem);
    if (secrets !== undefined) {
      for (const s of [secrets.worker, secrets.manager]) {
        if (!/^[0-9a-z]{25}$/.test(s)) throw skepError('INVALID_JOIN_TOKEN');
      }
      if (secrets.worker === secrets.manager) throw skepError('INVALID_JOIN_TOKEN');
    }
    this.current = secrets === undefined ? { worker: generateSecret(), manager: generateSecret() } : { ...secrets };
  }

  /** The full token for a role (a secret). */
  token(role: TokenRole): string {
    return formatJoinToken(this.digest, this.current[role]);
  }

  /** A new secret for the role; the previous token of that role is rejected from now on. */
  rotate(role: TokenRole): string {
    this.current = { ...this.current, [role]: generateSecret() };
    return this.token(role);
  }

  /** After a CA rotation the tokens carry the new digest; secrets are unchanged. */
  setCaCertificate(caCertPem: string): void {
    this.digest = caDigest(caCertPem);
  }

  secrets(): JoinTokenSecrets {
    return { ...this.current };
  }

  match(secret: string): NodeRole | null {
    // Both comparisons always run, so timing does not tell which token a guess was closer to.
    const manager = tokenSecretMatches(secret, this.current.manager);
    const worker = tokenSecretMatches(secret, this.current.worker);
    if (manager) return 'swarm-manager';
    if (worker) return 'swarm-worker';
    return null;
  }
}

// The browser-mode access token: anyone on this machine can reach 127.0.0.1, so the token is
// what makes the page, its assets and its WebSocket this user's alone.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'skep_token';

export function newAccessToken(): string {
  return randomBytes(32).toString('base64url');
}

function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export type Credential = 'query' | 'cookie';

/** Which credential proved access, or undefined when none did. */
export function authorize(request: IncomingMessage, expected: string): Credential | undefined {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null && sameSecret(fromQuery, expected)) return 'query';
  const fromCookie = cookieValue(request.headers.cookie, TOKEN_COOKIE);
  if (fromCookie !== undefined && sameSecret(fromCookie, expected)) return 'cookie';
  return undefined;
}

// The browser-mode access token: anyone on this machine can reach 127.0.0.1, so the token is
// what makes the page, its assets and its WebSocket this user's alone.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Cookies ignore ports: every server on 127.0.0.1 would be sent a cookie of one fixed name, and two
 * Skep instances in one browser would overwrite each other's. The name carries the port instead.
 */
export function tokenCookieName(port: number): string {
  return `skep_token_${port}`;
}

/**
 * The Host a browser sends for this server, and nothing else: a page on another name that resolves
 * to 127.0.0.1 (DNS rebinding) gets no answer, cookie or not.
 */
export function allowedHosts(listenHost: string, port: number): ReadonlySet<string> {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  if (listenHost.includes(':')) hosts.add(`[${listenHost}]:${port}`);
  else if (listenHost !== '0.0.0.0') hosts.add(`${listenHost}:${port}`);
  return hosts;
}

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
export function authorize(request: IncomingMessage, expected: string, cookieName: string): Credential | undefined {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null && sameSecret(fromQuery, expected)) return 'query';
  const fromCookie = cookieValue(request.headers.cookie, cookieName);
  if (fromCookie !== undefined && sameSecret(fromCookie, expected)) return 'cookie';
  return undefined;
}

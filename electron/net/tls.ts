// TLS settings shared by servers and clients. TLS 1.3 only: no renegotiation, no legacy suites,
// and the client certificate is encrypted in the handshake.

import * as tls from 'node:tls';
import { skepError } from '../../shared/errors.js';

export const TLS_MIN_VERSION = 'TLSv1.3' as const;

/** A node's credentials. keyPem is a secret: never log it or put it in an error. */
export interface TlsCredentials {
  readonly certPem: string;
  readonly keyPem: string;
  /** The cluster CA certificate(s) that peers must chain to. */
  readonly caPem: string;
}

/** Credentials of a server that only proves itself (the join bootstrap). */
export interface ServerOnlyCredentials {
  readonly certPem: string;
  readonly keyPem: string;
}

export function mutualContextOptions(creds: TlsCredentials): tls.SecureContextOptions {
  return { cert: creds.certPem, key: creds.keyPem, ca: creds.caPem, minVersion: TLS_MIN_VERSION };
}

export function createMutualContext(creds: TlsCredentials): tls.SecureContext {
  return tls.createSecureContext(mutualContextOptions(creds));
}

/** host:port or [v6]:port. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw skepError('INVALID_REQUEST', `not a host:port address: ${address}`);
  }
  return { host, port };
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// Why a join could not reach the manager, in words a person can act on: the transport's reason
// (an errno, an OpenSSL error string, a handshake timeout) becomes one of the catalog's join
// errors that names the address. A handshake timeout is told apart by a plain TCP probe: a
// port that accepts TCP but never speaks Skep's TLS is not the same fault as nothing answering.
import net from 'node:net';
import { SkepError, skepError } from '../../../shared/errors.js';
import { parseAddress } from '../../net/index.js';

const PROBE_TIMEOUT_MS = 3000;

/** Whether a TCP connection to `address` opens within `timeoutMs`. */
export function tcpConnects(address: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (connected: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(connected);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const REFUSED = /ECONNREFUSED/;
const UNREACHABLE = /ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|EADDRNOTAVAIL/;
const NOT_TLS = /SSL|TLS|EPROTO|ECONNRESET|socket disconnected|wrong version number|no answer within|closed the connection/i;
const HANDSHAKE_TIMEOUT = /no TLS handshake within/;

/** The catalog's join error for a failure to reach `address`; other errors pass through unchanged. */
export async function describeJoinFailure(address: string, error: unknown, timeoutMs: number): Promise<unknown> {
  if (!(error instanceof SkepError) || error.code !== 'PEER_UNREACHABLE') return error;
  const reason = error.message;
  const seconds = Math.round(timeoutMs / 1000);
  if (REFUSED.test(reason)) return skepError('JOIN_CONNECTION_REFUSED', address);
  if (UNREACHABLE.test(reason)) return skepError('JOIN_NOTHING_ANSWERS', address, seconds);
  if (HANDSHAKE_TIMEOUT.test(reason)) {
    return (await tcpConnects(address)) ? skepError('JOIN_NOT_A_MANAGER', address) : skepError('JOIN_NOTHING_ANSWERS', address, seconds);
  }
  if (NOT_TLS.test(reason)) return skepError('JOIN_NOT_A_MANAGER', address);
  return error;
}

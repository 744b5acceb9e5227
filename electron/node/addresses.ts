// Listen and advertise addresses, chosen as Docker chooses them.
import os from 'node:os';
import { skepError } from '../../shared/errors.js';
import { formatAddress, parseAddress } from '../net/index.js';

export const DEFAULT_CLUSTER_PORT = 2377;

/** ADDR, ADDR:PORT or :PORT → host and port (default port 2377, default host 0.0.0.0). */
export function parseListenAddr(value: string | undefined): { host: string; port: number } {
  if (!value) return { host: '0.0.0.0', port: DEFAULT_CLUSTER_PORT };
  if (value.startsWith(':')) return { host: '0.0.0.0', port: portOf(value.slice(1), value) };
  if (hasPort(value)) return parseAddress(value);
  return { host: value, port: DEFAULT_CLUSTER_PORT };
}

/** host:port or [v6]:port; a bare IPv6 address has no port. */
function hasPort(value: string): boolean {
  return /^\[.+\]:\d+$/.test(value) || /^[^:]+:\d+$/.test(value);
}

function portOf(text: string, whole: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw skepError('INVALID_REQUEST', `invalid port in address "${whole}"`);
  return port;
}

/** The address other nodes should use: the advertise address, else a specific listen address, else this machine's only IPv4. */
export function chooseAdvertiseAddr(advertise: string | undefined, listen: { host: string; port: number }): string {
  if (advertise) {
    if (!hasPort(advertise)) return formatAddress(advertise, listen.port);
    const { host, port } = parseAddress(advertise);
    return formatAddress(host, port);
  }
  if (listen.host !== '0.0.0.0' && listen.host !== '::') return formatAddress(listen.host, listen.port);
  const candidates = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
  const unique = [...new Set(candidates)];
  if (unique.length === 1 && unique[0]) return formatAddress(unique[0], listen.port);
  if (unique.length === 0) throw skepError('INVALID_REQUEST', 'could not find an address to advertise; use --advertise-addr to choose one');
  throw skepError('INVALID_REQUEST', `could not choose an IP address to advertise since this system has multiple addresses (${unique.join(', ')}); use --advertise-addr to choose one`);
}

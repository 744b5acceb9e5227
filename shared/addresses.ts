// Node addresses for `swarm init` and `swarm join`, checked the same way by the CLI, the daemon and
// the window's form, before anything is started or sent. Pure: the caller passes this machine's
// interface names when it knows them (the daemon does; the window has them from system info).
//
// What is allowed, as Docker allows it:
//   listen address     <ip|interface>[:port]  or  :port      (0.0.0.0 and :: allowed)
//   advertise address  <ip|interface>[:port]                 (a non-zero IP)
//   manager address    <ip|host name>[:port]                 (the join's HOST:PORT)
// A port is 1–65535. "tcp://" may lead; any other scheme is refused with Docker's words.
import { skepError, SkepError } from './errors.js';

export const DEFAULT_CLUSTER_PORT = 2377;

export type AddressField = 'listenAddr' | 'advertiseAddr' | 'remoteAddr';

export interface NodeAddress {
  /** An IP address, an interface name, a host name (manager addresses only), or '' (":PORT"). */
  readonly host: string;
  /** Absent when the address names none. */
  readonly port?: number;
  readonly kind: 'ip' | 'interface' | 'hostname' | 'any';
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// Linux allows up to 15 characters; a name with no letter would read as a mistyped IP address.
const INTERFACE_NAME = /^(?=.*[A-Za-z])[A-Za-z0-9_.@-]{1,15}$/;
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

export function isIPv6(text: string): boolean {
  if (text.includes('%')) text = text.slice(0, text.indexOf('%'));
  let groups = text.split(':');
  let needed = 8;
  const last = groups[groups.length - 1] ?? '';
  if (last.includes('.')) {
    if (!isIPv4(last)) return false;
    groups = groups.slice(0, -1);
    if (groups[groups.length - 1] === '') groups.push('');
    needed = 6;
  }
  const joined = groups.join(':');
  const halves = joined.split('::');
  if (halves.length > 2) return false;
  const hex = /^[0-9A-Fa-f]{1,4}$/;
  const parts = (half: string): string[] | undefined => {
    if (half === '') return [];
    const list = half.split(':');
    return list.every((group) => hex.test(group)) ? list : undefined;
  };
  if (halves.length === 1) {
    const list = parts(joined);
    return list !== undefined && list.length === needed;
  }
  const head = parts(halves[0] ?? '');
  const tail = parts(halves[1] ?? '');
  return head !== undefined && tail !== undefined && head.length + tail.length < needed;
}

export function isIP(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}

function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || (isIPv6(ip) && /^[0:]+$/.test(ip));
}

function isHostName(text: string): boolean {
  return text.length <= 253 && text.split('.').every((label) => HOST_LABEL.test(label)) && !/^[\d.]+$/.test(text);
}

function refusal(field: AddressField, value: string): SkepError {
  const error =
    field === 'listenAddr' ? skepError('LISTEN_ADDR_INVALID') : field === 'advertiseAddr' ? skepError('ADVERTISE_ADDR_INVALID') : skepError('REMOTE_ADDR_INVALID', value);
  return withField(error, field);
}

/** The catalog's error with the field it is about, so the window can put it next to that field. */
export function withField(error: SkepError, field: AddressField): SkepError {
  return new SkepError(error.code, error.message, { ...error.details, field });
}

/** Splits "host:port", "[v6]:port", "[v6]", "v6", "host" and ":port"; the port stays text. */
function split(value: string): { host: string; port?: string } | undefined {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(value);
  if (bracketed) return bracketed[2] === undefined ? { host: bracketed[1] ?? '' } : { host: bracketed[1] ?? '', port: bracketed[2] };
  if (value.includes('[') || value.includes(']')) return undefined;
  const colons = value.split(':').length - 1;
  if (colons === 0) return { host: value };
  if (colons === 1) {
    const at = value.indexOf(':');
    return { host: value.slice(0, at), port: value.slice(at + 1) };
  }
  return { host: value }; // a bare IPv6 address carries no port
}

/**
 * Checks one address for `field`; returns what it names, or the catalog's error (with
 * details.field). `interfaces`: this machine's interface names, when known.
 */
export function parseNodeAddress(field: AddressField, raw: string, interfaces?: readonly string[]): NodeAddress | SkepError {
  const value = raw.trim();
  const rest = value.startsWith('tcp://') ? value.slice('tcp://'.length) : value;
  if (rest.includes('://')) return withField(skepError('ADDR_PROTO', value), field);
  if (rest === '' || /[\s/?#]/.test(rest)) return refusal(field, value);
  const parts = split(rest);
  if (!parts) return refusal(field, value);
  let port: number | undefined;
  if (parts.port !== undefined) {
    port = /^\d{1,5}$/.test(parts.port) ? Number(parts.port) : NaN;
    if (!(port >= 1 && port <= 65535)) return withField(skepError('ADDR_PORT_INVALID', value), field);
  }
  const host = parts.host;
  const withPort = (kind: NodeAddress['kind']): NodeAddress => (port === undefined ? { host, kind } : { host, port, kind });
  if (host === '') return field === 'listenAddr' && port !== undefined ? withPort('any') : refusal(field, value);
  if (isIP(host)) return field !== 'listenAddr' && isUnspecified(host) ? refusal(field, value) : withPort('ip');
  if (field === 'remoteAddr') return isHostName(host) ? withPort('hostname') : refusal(field, value);
  const known = interfaces !== undefined && interfaces.length > 0;
  if (known ? interfaces.includes(host) : INTERFACE_NAME.test(host)) return withPort('interface');
  return refusal(field, value);
}

/** The first problem among an init's or a join's addresses, or undefined when every one can work. */
export function checkNodeAddresses(
  addresses: Partial<Record<AddressField, string>>,
  interfaces?: readonly string[],
): SkepError | undefined {
  for (const field of ['remoteAddr', 'listenAddr', 'advertiseAddr'] as const) {
    const value = addresses[field];
    if (value === undefined || value.trim() === '') continue;
    const parsed = parseNodeAddress(field, value, interfaces);
    if (parsed instanceof SkepError) return parsed;
  }
  return undefined;
}

/** The field an error is about, when it names one (the address errors above do). */
export function errorField(error: { readonly details?: Readonly<Record<string, unknown>> }): AddressField | undefined {
  const field = error.details?.field;
  return field === 'listenAddr' || field === 'advertiseAddr' || field === 'remoteAddr' ? field : undefined;
}

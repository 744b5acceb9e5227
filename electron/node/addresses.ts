// Listen, advertise and manager addresses, checked (shared/addresses.ts) and resolved as Docker
// resolves them: an interface name becomes its address, a missing port comes from the listen
// address, a missing advertise address is this machine's only IPv4.
import net from 'node:net';
import os from 'node:os';
import { DEFAULT_CLUSTER_PORT, parseNodeAddress, withField, type AddressField, type NodeAddress } from '../../shared/addresses.js';
import { skepError, SkepError } from '../../shared/errors.js';
import { formatAddress, parseAddress } from '../net/index.js';
import { listenError } from './lifecycle.js';


export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** A stored listen address (written by init or join, so already checked): host and port. */
export function parseListenAddr(value: string): ListenAddress {
  return parseAddress(value);
}

/** The addresses an init or a join asked for, checked and resolved; throws the catalog's error. */
export interface ResolvedAddresses {
  readonly listen: ListenAddress;
  /** host:port other nodes dial. */
  readonly advertiseAddr: string;
}

function checked(field: AddressField, value: string): NodeAddress {
  const parsed = parseNodeAddress(field, value, Object.keys(os.networkInterfaces()));
  if (parsed instanceof SkepError) throw parsed;
  return parsed;
}

/** An interface's address, as Docker picks it: its IPv4 address, else its IPv6 address. */
function interfaceAddress(name: string, field: AddressField): string {
  const addresses = os.networkInterfaces()[name] ?? [];
  const v4 = addresses.filter((a) => a.family === 'IPv4').map((a) => a.address);
  const v6 = addresses.filter((a) => a.family === 'IPv6').map((a) => a.address);
  const [first, second] = v4.length > 0 ? v4 : v6;
  if (first === undefined) throw withField(skepError('INTERFACE_NO_ADDRESS', name), field);
  if (second !== undefined) throw withField(skepError('INTERFACE_MANY_ADDRESSES', name, v4.length > 0 ? 'IPv4' : 'IPv6', first, second), field);
  return first;
}

function hostOf(address: NodeAddress, field: AddressField): string {
  return address.kind === 'interface' ? interfaceAddress(address.host, field) : address.host;
}

/** `--listen-addr` and `--advertise-addr` of an init or a join. */
export function resolveAddresses(request: { readonly listenAddr?: string | undefined; readonly advertiseAddr?: string | undefined }): ResolvedAddresses {
  const listenAsked = checked('listenAddr', request.listenAddr?.trim() || `0.0.0.0:${DEFAULT_CLUSTER_PORT}`);
  const listen: ListenAddress = {
    host: listenAsked.kind === 'any' ? '0.0.0.0' : hostOf(listenAsked, 'listenAddr'),
    port: listenAsked.port ?? DEFAULT_CLUSTER_PORT,
  };
  const advertiseText = request.advertiseAddr?.trim();
  if (advertiseText) {
    const advertise = checked('advertiseAddr', advertiseText);
    return { listen, advertiseAddr: formatAddress(hostOf(advertise, 'advertiseAddr'), advertise.port ?? listen.port) };
  }
  return { listen, advertiseAddr: chooseAdvertiseAddr(listen) };
}

/** The join's HOST:PORT (a host name is allowed here: it is only dialled). */
export function resolveRemoteAddr(value: string): string {
  const remote = checked('remoteAddr', value);
  return formatAddress(remote.host, remote.port ?? DEFAULT_CLUSTER_PORT);
}

/** The address other nodes should use when none was given: a specific listen address, else this machine's only IPv4. */
function chooseAdvertiseAddr(listen: ListenAddress): string {
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

/**
 * Opens and closes the listen address: a join checks it can listen before it asks a manager for
 * anything, so a port in use fails here instead of leaving a half-joined node on the manager.
 */
export async function checkCanListen(listen: ListenAddress): Promise<void> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: listen.host, port: listen.port, exclusive: true }, () => resolve());
    });
  } catch (error) {
    throw withField(listenError(formatAddress(listen.host, listen.port), error), 'listenAddr');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

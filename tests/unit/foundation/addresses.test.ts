// Init and join accept only addresses that can work: an IP address or an interface name, a port
// from 1 to 65535, "tcp://" or nothing in front — with Docker's words where Docker has them, and
// the field each error is about. The daemon's side resolves interfaces and checks it can listen.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkNodeAddresses, errorField, isIPv6, parseNodeAddress, type AddressField } from '../../../shared/addresses.js';
import { SkepError, skepError } from '../../../shared/errors.js';
import { checkCanListen, resolveAddresses, resolveRemoteAddr } from '../../../electron/node/addresses.js';

function refusal(field: AddressField, value: string, interfaces?: readonly string[]): SkepError {
  const result = parseNodeAddress(field, value, interfaces);
  if (!(result instanceof SkepError)) throw new Error(`${field} ${value} was accepted as ${JSON.stringify(result)}`);
  return result;
}

const LISTEN_TEXT = 'listen address must be an IP address or network interface (with optional port number)';
const ADVERTISE_TEXT = 'advertise address must be a non-zero IP address or network interface (with optional port number)';

describe('shared address checks', () => {
  it.each([
    ['advertiseAddr', '999.1.1.1', ADVERTISE_TEXT],
    ['advertiseAddr', '0.0.0.0', ADVERTISE_TEXT],
    ['advertiseAddr', '::', ADVERTISE_TEXT],
    ['advertiseAddr', 'wlan9', ADVERTISE_TEXT],
    ['advertiseAddr', 'http://foo bar/', 'invalid proto, expected tcp: http://foo bar/'],
    ['listenAddr', 'udp://10.0.0.1:2377', 'invalid proto, expected tcp: udp://10.0.0.1:2377'],
    ['listenAddr', 'foo bar', LISTEN_TEXT],
    ['listenAddr', 'nas.example.com:2377', LISTEN_TEXT],
    ['listenAddr', '10.0.0.1:0', 'invalid port in address "10.0.0.1:0": a port is a whole number from 1 to 65535'],
    ['listenAddr', '10.0.0.1:65536', 'invalid port in address "10.0.0.1:65536": a port is a whole number from 1 to 65535'],
    ['listenAddr', '[::1]:http', 'invalid port in address "[::1]:http": a port is a whole number from 1 to 65535'],
    ['listenAddr', '1.2.3.4:', 'invalid port in address "1.2.3.4:": a port is a whole number from 1 to 65535'],
    ['remoteAddr', 'manager lan:2377', 'invalid remoteAddr "manager lan:2377": give the manager\'s address as HOST:PORT — an IP address or host name, and a port from 1 to 65535 (a swarm\'s default is 2377)'],
    ['remoteAddr', '0.0.0.0:2377', skepError('REMOTE_ADDR_INVALID', '0.0.0.0:2377').message],
    ['remoteAddr', '300.1.1.1:2377', skepError('REMOTE_ADDR_INVALID', '300.1.1.1:2377').message],
  ] as const)('refuses %s %j with "%s"', (field, value, text) => {
    const error = refusal(field, value, ['lo', 'eth0']);
    expect(error.message).toBe(text);
    expect(errorField(error)).toBe(field);
  });

  it.each([
    ['listenAddr', '0.0.0.0:2377', { host: '0.0.0.0', port: 2377, kind: 'ip' }],
    ['listenAddr', ':4545', { host: '', port: 4545, kind: 'any' }],
    ['listenAddr', 'tcp://10.0.0.1', { host: '10.0.0.1', kind: 'ip' }],
    ['listenAddr', '[::]:2377', { host: '::', port: 2377, kind: 'ip' }],
    ['listenAddr', 'eth0:2377', { host: 'eth0', port: 2377, kind: 'interface' }],
    ['advertiseAddr', '192.168.1.10', { host: '192.168.1.10', kind: 'ip' }],
    ['advertiseAddr', 'fd00::10', { host: 'fd00::10', kind: 'ip' }],
    ['advertiseAddr', 'eth0', { host: 'eth0', kind: 'interface' }],
    ['remoteAddr', 'manager.lan:2377', { host: 'manager.lan', port: 2377, kind: 'hostname' }],
    ['remoteAddr', '[fd00::1]:2377', { host: 'fd00::1', port: 2377, kind: 'ip' }],
  ] as const)('accepts %s %j', (field, value, expected) => {
    expect(parseNodeAddress(field, value, ['lo', 'eth0'])).toEqual(expected);
  });

  it('takes an interface-like name when the interfaces are not known, and only a listed one when they are', () => {
    expect(parseNodeAddress('advertiseAddr', 'enp3s0')).toEqual({ host: 'enp3s0', kind: 'interface' });
    expect(refusal('advertiseAddr', 'enp3s0', ['lo', 'eth0']).code).toBe('ADVERTISE_ADDR_INVALID');
    // A mistyped IP address is never taken for an interface name.
    expect(refusal('advertiseAddr', '10.0.0.256').code).toBe('ADVERTISE_ADDR_INVALID');
  });

  it('reads IPv6 addresses strictly', () => {
    for (const ok of ['::1', '::', 'fe80::1', '2001:db8::8a2e:370:7334', '::ffff:10.0.0.1', '1:2:3:4:5:6:7:8']) expect(isIPv6(ok), ok).toBe(true);
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', ':::']) expect(isIPv6(bad), bad).toBe(false);
  });

  it("reports a join's first problem, the manager address first", () => {
    const problem = checkNodeAddresses({ remoteAddr: 'x y', listenAddr: 'bad addr', advertiseAddr: '' });
    expect(problem?.code).toBe('REMOTE_ADDR_INVALID');
    expect(checkNodeAddresses({ remoteAddr: '10.0.0.1:2377', listenAddr: ':2377' })).toBeUndefined();
  });
});

describe("the daemon's resolution", () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('resolves an interface name to its address, and fills the advertise port from the listen port', () => {
    expect(resolveAddresses({ listenAddr: 'lo:4790', advertiseAddr: '127.0.0.1' })).toEqual({ listen: { host: '127.0.0.1', port: 4790 }, advertiseAddr: '127.0.0.1:4790' });
    expect(resolveAddresses({ listenAddr: ':4791', advertiseAddr: 'lo:5000' })).toEqual({ listen: { host: '0.0.0.0', port: 4791 }, advertiseAddr: '127.0.0.1:5000' });
    expect(resolveRemoteAddr('localhost')).toBe('localhost:2377');
  });

  it('refuses what it cannot use before anything starts: a host name to listen on, an interface this machine lacks', () => {
    expect(() => resolveAddresses({ listenAddr: 'nosuchhost.invalid:2377' })).toThrow(LISTEN_TEXT);
    expect(() => resolveAddresses({ listenAddr: '127.0.0.1:2377', advertiseAddr: 'nosuchif0' })).toThrow(ADVERTISE_TEXT);
  });

  it('finds a listen port in use before a join asks a manager, and names the field', async () => {
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const error = await checkCanListen({ host: '127.0.0.1', port }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SkepError);
    expect((error as SkepError).code).toBe('LISTEN_FAILED');
    expect((error as SkepError).message).toBe(`could not listen on 127.0.0.1:${port}: the address is already in use (another Skep node, or a Docker swarm manager on the same port?)`);
    expect(errorField(error as SkepError)).toBe('listenAddr');
    servers.length = 0;
    await new Promise((resolve) => server.close(resolve));
    await expect(checkCanListen({ host: '127.0.0.1', port })).resolves.toBeUndefined();
  });
});

import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SkepError, skepError } from '../../../shared/errors.js';
import {
  ConnectionPool,
  RpcServer,
  type DisconnectEvent,
  type Handlers,
  type MutualServerOptions,
  type PeerIdentity,
  type TlsCredentials,
} from '../../../electron/net/index.js';
import { eventually, makePki, sleep, type Pki } from './pki-fixtures.js';

type Creds = TlsCredentials & { nodeId: string; role: 'swarm-manager' | 'swarm-worker' };

let pki: Pki;
let otherPki: Pki;
let serverCreds: Creds;
let clientCreds: Creds;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(async () => {
  [pki, otherPki] = await Promise.all([makePki(), makePki()]);
  serverCreds = await pki.node('swarm-manager');
  clientCreds = await pki.node('swarm-worker');
});

const handlers: Handlers = {
  requests: {
    echo: (body, ctx) => ({ body, peer: ctx.peer }),
    never: () => new Promise(() => {}),
    fail: () => {
      throw skepError('NODE_NOT_FOUND', 'abc');
    },
    crash: () => {
      throw new Error('internal detail that must stay local');
    },
  },
};

async function startServer(options: Partial<MutualServerOptions> = {}): Promise<{ server: RpcServer; address: string; port: number }> {
  const server = RpcServer.mutual({ credentials: serverCreds, handlers, ...options });
  const { address, port } = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  return { server, address, port };
}

function pool(creds: TlsCredentials = clientCreds, extra: Partial<ConstructorParameters<typeof ConnectionPool>[0]> = {}): ConnectionPool {
  const p = new ConnectionPool({ credentials: creds, connectTimeoutMs: 2_000, ...extra });
  cleanups.push(() => p.close());
  return p;
}

async function rejection(promise: Promise<unknown>): Promise<SkepError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SkepError);
    return error as SkepError;
  }
  throw new Error('expected a rejection');
}

/** A TLS connection with valid credentials that bypasses the RPC layer, to misbehave on purpose. */
function rawTls(port: number, creds: TlsCredentials = clientCreds): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      cert: creds.certPem,
      key: creds.keyPem,
      ca: creds.caPem,
      minVersion: 'TLSv1.3',
      checkServerIdentity: () => undefined,
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.on('error', () => {});
    socket.once('close', () => resolve());
    // A paused socket never reads the server's FIN, so it would never see the close.
    socket.resume();
  });
}

describe('mutual TLS RPC', () => {
  it('round-trips a request and shows each side the verified identity of the other', async () => {
    const { address } = await startServer();
    const p = pool();
    const reply = await p.request<{ body: unknown; peer: PeerIdentity }>({ address, nodeId: serverCreds.nodeId, role: 'swarm-manager' }, 'echo', { hello: 'world', bytes: new Uint8Array([1, 2, 3]) });
    expect(reply.peer).toEqual({ nodeId: clientCreds.nodeId, role: 'swarm-worker' });
    const body = reply.body as { hello: string; bytes: Uint8Array };
    expect(body.hello).toBe('world');
    expect([...body.bytes]).toEqual([1, 2, 3]);
    const connection = await p.connect({ address, nodeId: serverCreds.nodeId, role: 'swarm-manager' });
    expect(connection.peer).toEqual({ nodeId: serverCreds.nodeId, role: 'swarm-manager' });
  });

  it('delivers one-way messages in order, including those sent while connecting', async () => {
    const received: number[] = [];
    const { address } = await startServer({
      handlers: { onNotify: (method, body) => { if (method === 'raft') received.push((body as { i: number }).i); } },
    });
    const p = pool();
    const peer = { address, nodeId: serverCreds.nodeId };
    const n = 5_000;
    // The first hundred are queued while the connection is set up; the rest go straight out.
    for (let i = 0; i < 100; i++) expect(p.notify(peer, 'raft', { i, entry: new Uint8Array(64) })).toBe(true);
    await p.connect(peer);
    for (let i = 100; i < n; i++) expect(p.notify(peer, 'raft', { i, entry: new Uint8Array(64) })).toBe(true);
    await eventually(() => received.length === n, 10_000);
    expect(received).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('carries errors as envelopes and keeps unexpected failures local', async () => {
    const { address } = await startServer();
    const p = pool();
    const peer = { address };
    const notFound = await rejection(p.request(peer, 'fail'));
    expect(notFound.toEnvelope()).toEqual({ code: 'NODE_NOT_FOUND', message: 'node abc not found' });
    const crash = await rejection(p.request(peer, 'crash'));
    expect(crash.code).toBe('INTERNAL');
    expect(crash.message).not.toContain('internal detail');
    expect((await rejection(p.request(peer, 'nope'))).code).toBe('UNKNOWN_METHOD');
    // The connection survives all three.
    expect(await p.request(peer, 'echo', 1)).toMatchObject({ body: 1 });
  });

  it('times out a request without losing the connection', async () => {
    const { address } = await startServer();
    const p = pool();
    const peer = { address };
    const started = Date.now();
    const e = await rejection(p.request(peer, 'never', undefined, { timeoutMs: 200 }));
    expect(e.code).toBe('RPC_TIMEOUT');
    expect(e.message).toBe('request "never" timed out after 200 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(await p.request(peer, 'echo', 'still here')).toMatchObject({ body: 'still here' });
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const { server, address } = await startServer();
    const stranger = await otherPki.node('swarm-manager');
    // The stranger trusts our CA (it could have read it anywhere), but its own cert is foreign.
    const p = pool({ ...stranger, caPem: pki.ca.certPem });
    const e = await rejection(p.request({ address }, 'echo', 1));
    expect(e.code).toBe('PEER_UNREACHABLE');
    await eventually(() => server.stats.handshakeFailures >= 1);
    expect(server.stats.accepted).toBe(0);
    expect(await pool().request({ address }, 'echo', 2)).toMatchObject({ body: 2 });
  });

  it('refuses a server whose certificate comes from another CA, or names another node', async () => {
    const { address } = await startServer();
    const p = pool({ ...clientCreds, caPem: otherPki.ca.certPem });
    expect((await rejection(p.request({ address }, 'echo'))).code).toBe('PEER_UNREACHABLE');
    const q = pool();
    const wrongNode = await rejection(q.request({ address, nodeId: clientCreds.nodeId }, 'echo'));
    expect(wrongNode.code).toBe('PEER_IDENTITY_MISMATCH');
    const wrongRole = await rejection(q.request({ address, role: 'swarm-worker' }, 'echo'));
    expect(wrongRole.code).toBe('PEER_IDENTITY_MISMATCH');
  });

  it('refuses a revoked node at connect time and lets others in', async () => {
    const revoked = new Set<string>();
    const { server, address } = await startServer({ isRevoked: (id) => revoked.has(id) });
    const removed = await pki.node('swarm-worker');
    revoked.add(removed.nodeId);
    const e = await rejection(pool(removed).request({ address }, 'echo'));
    expect(e.code).toBe('PEER_UNREACHABLE');
    expect(server.stats.refused).toBe(1);
    expect(await pool().request({ address }, 'echo', 3)).toMatchObject({ body: 3 });
    // Revoking a connected node: disconnectNode cuts its live connections too.
    const p = pool();
    await p.request({ address }, 'echo');
    const events: DisconnectEvent[] = [];
    p.onDisconnect((ev) => events.push(ev));
    revoked.add(clientCreds.nodeId);
    server.disconnectNode(clientCreds.nodeId);
    await eventually(() => events.length === 1);
    expect(events[0]?.wasConnected).toBe(true);
  });

  it('survives garbage, oversized frames and silent peers while serving others', async () => {
    const { server, address, port } = await startServer({ handshakeTimeoutMs: 300, idleTimeoutMs: 600 });
    const good = pool();
    const peer = { address };
    await good.request(peer, 'echo', 'before');

    // Not TLS at all.
    const garbage = net.connect(port, '127.0.0.1');
    garbage.on('error', () => {});
    garbage.write(Buffer.from('GET / HTTP/1.1\r\n\r\n\u0000\u0001\u00ff garbage'));
    await closed(garbage);

    // Valid TLS, then a frame of an unknown kind.
    const badFrame = await rawTls(port);
    badFrame.write(Buffer.from([0, 0, 0, 3, 0xee, 1, 2]));
    await closed(badFrame);

    // Valid TLS, then a length no frame may have: cut off from the header alone.
    const huge = await rawTls(port);
    huge.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await closed(huge);

    // A TCP connection that never starts the TLS handshake, and a TLS one that never says a word.
    const started = Date.now();
    const silentTcp = net.connect(port, '127.0.0.1');
    silentTcp.on('error', () => {});
    const silentTls = await rawTls(port);
    // A half-sent frame is no better than silence.
    silentTls.write(Buffer.from([0, 0, 1, 0, 4]));
    expect(await good.request(peer, 'echo', 'during')).toMatchObject({ body: 'during' });
    await Promise.all([closed(silentTcp), closed(silentTls)]);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(server.stats.handshakeFailures).toBeGreaterThanOrEqual(2);

    expect(await good.request(peer, 'echo', 'after')).toMatchObject({ body: 'after' });
    // A healthy but quiet connection outlives the idle timeout thanks to keepalive pings.
    await sleep(1_000);
    expect(await good.request(peer, 'echo', 'quiet')).toMatchObject({ body: 'quiet' });
    expect(server.connections()).toHaveLength(1);
  }, 15_000);
});

describe('connection pool', () => {
  it('refuses a revoked server, too', async () => {
    const { address } = await startServer();
    const p = pool(clientCreds, { isRevoked: (id) => id === serverCreds.nodeId });
    const e = await rejection(p.request({ address }, 'echo'));
    expect(e.message).toContain('has been removed from the swarm');
  });

  it('lets the server call back over the client\'s connection', async () => {
    const { server, address } = await startServer();
    const p = pool(clientCreds, { handlers: { requests: { ping: (body, ctx) => ({ pong: body, from: ctx.peer?.nodeId }) } } });
    await p.connect({ address });
    await eventually(() => server.connections().length === 1);
    const c = server.connections()[0];
    expect(await c?.request('ping', 7)).toEqual({ pong: 7, from: serverCreds.nodeId });
  });

  it('moves multi-megabyte binary bodies intact and refuses oversized ones locally', async () => {
    const { address } = await startServer({ maxFrameBytes: 8 * 1024 * 1024 });
    const p = pool(clientCreds, { maxFrameBytes: 8 * 1024 * 1024 });
    const blob = new Uint8Array(6 * 1024 * 1024);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) & 0xff;
    const reply = await p.request<{ body: { blob: Uint8Array } }>({ address }, 'echo', { blob });
    expect(Buffer.from(reply.body.blob).equals(Buffer.from(blob))).toBe(true);
    const tooBig = await rejection(p.request({ address }, 'echo', { blob: new Uint8Array(9 * 1024 * 1024) }));
    expect(tooBig.code).toBe('PROTOCOL_ERROR');
    // The refusal happened before anything was written: the connection is fine.
    expect(await p.request({ address }, 'echo', 'ok')).toMatchObject({ body: 'ok' });
  });

  it('drops one-way messages instead of buffering without bound', async () => {
    const { address } = await startServer({ handlers: { ...handlers, onNotify: () => {} } });
    const p = pool(clientCreds, { maxBufferedBytes: 256 * 1024 });
    await p.connect({ address });
    const payload = { data: new Uint8Array(64 * 1024) };
    let accepted = 0;
    for (let i = 0; i < 100; i++) if (p.notify({ address }, 'raft', payload)) accepted++;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(100);
    expect((await rejection(p.request({ address }, 'echo', payload))).code).toBe('SEND_BUFFER_FULL');
    await sleep(100);
    expect(await p.request({ address }, 'echo', 'drained')).toMatchObject({ body: 'drained' });
  });

  it('reports disconnects, backs off after failures and reconnects', async () => {
    const { server, address } = await startServer();
    const p = pool(clientCreds, { backoff: { initialMs: 200, maxMs: 400 } });
    const events: DisconnectEvent[] = [];
    p.onDisconnect((e) => events.push(e));
    await p.request({ address }, 'echo');
    for (const c of server.connections()) c.destroy();
    await eventually(() => events.length === 1);
    expect(events[0]).toMatchObject({ wasConnected: true, peer: { address } });
    // Reconnects on the next use.
    expect(await p.request({ address }, 'echo', 'again')).toMatchObject({ body: 'again' });

    const dead = pool(clientCreds, { backoff: { initialMs: 300, maxMs: 300 } });
    const deadEvents: DisconnectEvent[] = [];
    dead.onDisconnect((e) => deadEvents.push(e));
    const deadAddress = await unusedAddress();
    expect((await rejection(dead.request({ address: deadAddress }, 'echo'))).code).toBe('PEER_UNREACHABLE');
    expect(deadEvents[0]).toMatchObject({ wasConnected: false });
    const fast = await rejection(dead.request({ address: deadAddress }, 'echo'));
    expect(fast.message).toMatch(/retrying in \d+ ms/);
    expect(dead.notify({ address: deadAddress }, 'raft', {})).toBe(false);
    await sleep(400);
    expect((await rejection(dead.request({ address: deadAddress }, 'echo'))).message).not.toMatch(/retrying/);
  });

  it('rejects pending requests when the connection drops', async () => {
    const { server, address } = await startServer();
    const p = pool();
    const pending = p.request({ address }, 'never', undefined, { timeoutMs: 5_000 });
    await eventually(() => server.connections().length === 1);
    server.connections()[0]?.destroy();
    expect((await rejection(pending)).code).toBe('CONNECTION_CLOSED');
  });

  it('reloads certificates without a restart, on both sides', async () => {
    const { server, address } = await startServer();
    // The client trusts only the other CA: refused.
    const renewedClient = await otherPki.node('swarm-worker');
    const p = pool({ ...clientCreds, caPem: otherPki.ca.certPem }, { backoff: { initialMs: 1, maxMs: 1 } });
    expect((await rejection(p.request({ address }, 'echo'))).code).toBe('PEER_UNREACHABLE');
    await sleep(5);
    // Fixed client credentials: accepted, no new pool.
    p.setCredentials(clientCreds);
    expect(await p.request({ address }, 'echo', 1)).toMatchObject({ body: 1 });

    // The server moves to a new CA (and certificate) live; old-CA clients now fail, new ones work.
    const renewedServer = await otherPki.node('swarm-manager');
    server.setCredentials(renewedServer);
    const oldClient = pool();
    expect((await rejection(oldClient.request({ address }, 'echo'))).code).toBe('PEER_UNREACHABLE');
    const newClient = pool(renewedClient);
    expect(await newClient.request({ address, nodeId: renewedServer.nodeId }, 'echo', 2)).toMatchObject({ body: 2, peer: { nodeId: renewedClient.nodeId } });
    // The connection made before the reload is still up.
    expect(await p.request({ address }, 'echo', 3)).toMatchObject({ body: 3 });
  });
});

async function unusedAddress(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

// Resource bounds of the transport, each tried with real TLS on loopback: backpressure on replies,
// requests in flight, the small frame limit before authentication, and the three connection
// budgets (handshaking, anonymous, authenticated per node) with their deadlines.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionPool,
  DEFAULT_MAX_ANONYMOUS_FRAME_BYTES,
  FrameDecoder,
  MessageKind,
  OldestFirstBudget,
  RpcServer,
  decodeMessage,
  encodeMessage,
  type CombinedServerOptions,
  type Handlers,
  type RpcConnection,
  type TlsCredentials,
} from '../../../electron/net/index.js';
import { eventually, makePki, sleep, type Pki } from './pki-fixtures.js';

type Creds = TlsCredentials & { nodeId: string };

let pki: Pki;
let serverCreds: Creds;
let clientCreds: Creds;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(async () => {
  pki = await makePki();
  serverCreds = await pki.node('swarm-manager');
  clientCreds = await pki.node('swarm-manager');
});

const REPLY_BYTES = 64 * 1024;
let gate: Promise<void> = Promise.resolve();

const handlers: Handlers = {
  requests: {
    echo: (body) => body,
    big: () => new Uint8Array(REPLY_BYTES),
    held: async () => {
      await gate;
      return 'released';
    },
    heldHuge: async () => {
      await gate;
      return new Uint8Array(1024 * 1024);
    },
  },
};

async function startServer(options: Partial<CombinedServerOptions> = {}): Promise<{ server: RpcServer; address: string; port: number }> {
  const server = RpcServer.combined({ credentials: serverCreds, handlers, bootstrapHandlers: handlers, ...options });
  const { address, port } = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  return { server, address, port };
}

function pool(creds: TlsCredentials = clientCreds): ConnectionPool {
  const p = new ConnectionPool({ credentials: creds, connectTimeoutMs: 3_000 });
  cleanups.push(() => p.close());
  return p;
}

/** A TLS connection below the RPC layer; anonymous unless credentials are given. */
function rawTls(port: number, creds?: TlsCredentials): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ...(creds === undefined ? {} : { cert: creds.certPem, key: creds.keyPem }),
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
    cleanups.push(() => socket.destroy());
  });
}

function rawTcp(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
    cleanups.push(() => socket.destroy());
  });
}

function isClosed(socket: net.Socket): boolean {
  return socket.destroyed || socket.readyState === 'closed';
}

/** Resolves when the socket closes; reads (and drops) what arrives so the FIN is seen. */
function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.on('error', () => {});
    socket.once('close', () => resolve());
    socket.resume();
  });
}

function request(id: number, method: string, body?: unknown): Buffer {
  return encodeMessage({ kind: MessageKind.Request, id, method, body }, 16 * 1024 * 1024);
}

/** Collects the replies arriving on a raw socket (after the server's HELLO). */
function replies(socket: net.Socket): { ids: number[] } {
  const decoder = new FrameDecoder();
  const seen = { ids: [] as number[] };
  socket.on('data', (chunk: Buffer) => decoder.push(chunk, (payload) => {
    const message = decodeMessage(payload);
    if (message.kind === MessageKind.Response || message.kind === MessageKind.Error) seen.ids.push(message.id);
  }));
  return seen;
}

function onlyConnection(server: RpcServer): RpcConnection {
  const all = server.connections();
  expect(all).toHaveLength(1);
  return all[0] as RpcConnection;
}

describe('backpressure', () => {
  it('stops reading from a peer that leaves its replies unread, and loses nothing once it reads', async () => {
    const { server, port } = await startServer({ pauseReadingAboveBytes: 256 * 1024 });
    const socket = await rawTls(port, clientCreds);
    socket.pause();
    // 2,000 requests for 64 KiB each: 125 MiB of replies if the server answered them all.
    const count = 2_000;
    let flushed = true;
    for (let id = 1; id <= count; id++) flushed = socket.write(request(id, 'big'));
    expect(flushed).toBe(false);
    await eventually(() => server.connections().length === 1 && onlyConnection(server).isReadingPaused);
    await sleep(300);
    const connection = onlyConnection(server);
    console.log(`backpressure: 2,000 requests for 64 KiB replies left unread; the server holds ${connection.unsentBytes} unsent bytes`);
    expect(connection.isReadingPaused).toBe(true);
    // The bound plus one turn of replies (16 requests are dispatched between looks at the send
    // buffer), never the whole 125 MiB.
    expect(connection.unsentBytes).toBeLessThanOrEqual(256 * 1024 + 16 * (REPLY_BYTES + 64));

    const seen = replies(socket);
    socket.resume();
    await eventually(() => seen.ids.length === count, 30_000);
    expect(seen.ids).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(connection.isReadingPaused).toBe(false);
  }, 40_000);

  it('drops a peer that stops reading for longer than the idle timeout', async () => {
    const { server, port } = await startServer({ pauseReadingAboveBytes: 64 * 1024, idleTimeoutMs: 600 });
    const socket = await rawTls(port, clientCreds);
    socket.pause();
    for (let id = 1; id <= 500; id++) socket.write(request(id, 'big'));
    await eventually(() => server.connections().length === 1 && onlyConnection(server).isReadingPaused);
    await eventually(() => server.connections().length === 0, 5_000);
  });

  it('closes a connection whose unread replies would pass the hard limit', async () => {
    // Pausing stops new requests, but 64 already in flight may answer with 1 MiB each: more than
    // the kernel's socket buffers take, so the excess would stay in our memory.
    gate = new Promise((resolve) => setTimeout(resolve, 300));
    const { server, port } = await startServer({ pauseReadingAboveBytes: 64 * 1024, maxBufferedBytes: 4 * 1024 * 1024, maxInFlightRequests: 64 });
    const socket = await rawTls(port, clientCreds);
    socket.pause();
    for (let id = 1; id <= 64; id++) socket.write(request(id, 'heldHuge'));
    await eventually(() => server.connections().length === 1);
    await eventually(() => server.connections().length === 0, 5_000);
    await closed(socket);
  });

  it('handles at most maxInFlightRequests of one peer at a time, then the rest', async () => {
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const { server, port } = await startServer({ maxInFlightRequests: 8 });
    const socket = await rawTls(port, clientCreds);
    const seen = replies(socket);
    for (let id = 1; id <= 100; id++) socket.write(request(id, 'held'));
    await eventually(() => server.connections().length === 1 && onlyConnection(server).requestsInFlight === 8);
    await sleep(200);
    expect(onlyConnection(server).requestsInFlight).toBe(8);
    expect(onlyConnection(server).isReadingPaused).toBe(true);
    expect(seen.ids).toEqual([]);
    release();
    await eventually(() => seen.ids.length === 100);
    expect(new Set(seen.ids).size).toBe(100);
  });

  it('never deadlocks two ends that both send more than they read at once', async () => {
    const { address } = await startServer({ pauseReadingAboveBytes: 64 * 1024 });
    const p = pool();
    const body = new Uint8Array(128 * 1024).fill(7);
    const answers = await Promise.all(Array.from({ length: 100 }, () => p.request<Uint8Array>({ address }, 'echo', body, { timeoutMs: 30_000 })));
    expect(answers.every((a) => a.length === body.length && a[100] === 7)).toBe(true);
  }, 40_000);
});

describe('frame limit before authentication', () => {
  it('cuts an anonymous peer at 64 KiB and lets an authenticated one send megabytes', async () => {
    const { server, address, port } = await startServer();
    const header = (length: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(length);
      return b;
    };
    const anonymousBig = await rawTls(port);
    anonymousBig.write(header(DEFAULT_MAX_ANONYMOUS_FRAME_BYTES + 1));
    await closed(anonymousBig);

    // A partial frame just under the limit is held (it could be a slow join)…
    const anonymousPartial = await rawTls(port);
    anonymousPartial.write(Buffer.concat([header(DEFAULT_MAX_ANONYMOUS_FRAME_BYTES), Buffer.alloc(DEFAULT_MAX_ANONYMOUS_FRAME_BYTES - 1)]));
    await sleep(200);
    expect(isClosed(anonymousPartial)).toBe(false);
    expect(server.occupancy().anonymous).toBe(1);

    // …and a node with a certificate gets the normal limit.
    const blob = new Uint8Array(4 * 1024 * 1024).fill(3);
    const echoed = await pool().request<Uint8Array>({ address }, 'echo', blob);
    expect(echoed.length).toBe(blob.length);
  });
});

describe('connection budgets', () => {
  it('evicts the oldest TCP connections stuck before the handshake, and lets a node in', async () => {
    const { server, address } = await startServer({ maxHandshaking: 4, handshakeTimeoutMs: 3_000 });
    const port = Number(address.split(':')[1]);
    const idle: net.Socket[] = [];
    for (let i = 0; i < 10; i++) {
      idle.push(await rawTcp(port));
      await sleep(5);
    }
    await eventually(() => server.stats.evictedHandshaking === 6);
    await Promise.all(idle.slice(0, 6).map(closed));
    expect(idle.slice(6).some(isClosed)).toBe(false);
    expect(server.occupancy().handshaking).toBe(4);
    // A node dialing now takes the oldest idle slot instead of being refused.
    expect(await pool().request({ address }, 'echo', 'in')).toBe('in');
    expect(server.stats.evictedHandshaking).toBe(7);
    // The handshake deadline ends the rest.
    await Promise.all(idle.slice(6).map(closed));
    expect(server.stats.handshakeFailures).toBeGreaterThanOrEqual(3);
    expect(server.occupancy().handshaking).toBe(0);
  });

  it('evicts the oldest anonymous connections, ends them at their lifetime, and never touches nodes', async () => {
    const { server, address, port } = await startServer({ maxAnonymous: 4, anonymousLifetimeMs: 3_000 });
    const node = pool();
    expect(await node.request({ address }, 'echo', 1)).toBe(1);
    const anonymous: tls.TLSSocket[] = [];
    for (let i = 0; i < 10; i++) anonymous.push(await rawTls(port));
    await eventually(() => server.stats.evictedAnonymous === 6);
    await Promise.all(anonymous.slice(0, 6).map(closed));
    expect(server.occupancy()).toMatchObject({ anonymous: 4, authenticated: 1 });
    // An anonymous peer still gets answers (the join bootstrap lives here).
    const seen = replies(anonymous[9] as tls.TLSSocket);
    (anonymous[9] as tls.TLSSocket).write(request(1, 'echo', 'join me'));
    await eventually(() => seen.ids.length === 1);
    // Lifetime over: gone, however busy; the node's connection stays.
    await Promise.all(anonymous.slice(6).map(closed));
    expect(server.stats.expiredAnonymous).toBe(4);
    expect(server.occupancy()).toMatchObject({ anonymous: 0, authenticated: 1 });
    expect(await node.request({ address }, 'echo', 2)).toBe(2);
  });

  it('bounds connections per node (its own oldest goes) and refuses nodes past the authenticated budget', async () => {
    const { server, port } = await startServer({ maxAuthenticated: 3, maxConnectionsPerNode: 2 });
    const nodeB = await pki.node('swarm-worker');
    const nodeC = await pki.node('swarm-worker');
    const a1 = await rawTls(port, clientCreds);
    const a2 = await rawTls(port, clientCreds);
    const a3 = await rawTls(port, clientCreds);
    await closed(a1);
    expect(server.stats.evictedPerNode).toBe(1);
    expect(isClosed(a2) || isClosed(a3)).toBe(false);
    const b1 = await rawTls(port, nodeB);
    await eventually(() => server.occupancy().authenticated === 3);
    // Full: a third node is refused right after its handshake…
    const c1 = await rawTls(port, nodeC);
    await closed(c1);
    expect(server.stats.refusedOverBudget).toBe(1);
    // …but a node at its own limit may still replace its oldest connection.
    const a4 = await rawTls(port, clientCreds);
    await closed(a2);
    expect(server.stats.evictedPerNode).toBe(2);
    expect([a3, a4, b1].some(isClosed)).toBe(false);
    expect(server.occupancy().authenticated).toBe(3);
  });
});

describe('OldestFirstBudget', () => {
  it('admits everyone and evicts the oldest past its capacity', () => {
    const budget = new OldestFirstBudget<string>(2);
    expect(budget.admit('a')).toEqual([]);
    expect(budget.admit('b')).toEqual([]);
    expect(budget.admit('c')).toEqual(['a']);
    budget.release('b');
    expect(budget.admit('d')).toEqual([]);
    expect([...budget.values()]).toEqual(['c', 'd']);
    expect(() => new OldestFirstBudget(0)).toThrow(RangeError);
  });
});

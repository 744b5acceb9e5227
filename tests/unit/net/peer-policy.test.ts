// The pool's close watch over a peer (PeerPolicy): keepalives that notice a silent path, a silence told
// apart from a reset, lastHeardFrom as a sign of life, a backoff cap, and wake() after the peer reached us.
// A "cable" between pool and server is a TCP relay that stops moving bytes (both ways, nothing closed) —
// what a pulled cable looks like to TCP — and moves them again on heal.
import * as net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SkepError } from '../../../shared/errors.js';
import { ConnectionPool, RpcServer, type DisconnectEvent, type PeerPolicy, type TlsCredentials } from '../../../electron/net/index.js';
import { eventually, makePki, sleep, type Pki } from './pki-fixtures.js';

type Creds = TlsCredentials & { nodeId: string };

let pki: Pki;
let serverCreds: Creds;
let clientCreds: Creds;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  pki = await makePki();
  serverCreds = await pki.node('swarm-manager');
  clientCreds = await pki.node('swarm-manager');
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CLOSE_WATCH: PeerPolicy = { keepaliveMs: 30, idleTimeoutMs: 300, maxBackoffMs: 50, connectAttemptMs: 200 };

async function startServer(port = 0): Promise<{ server: RpcServer; port: number }> {
  const server = RpcServer.mutual({ credentials: serverCreds, handlers: { requests: { echo: (body) => body } } });
  const bound = await server.listen(port, '127.0.0.1');
  cleanups.push(() => server.close());
  return { server, port: bound.port };
}

/** A relay in front of `targetPort` whose cable can be pulled (bytes stop, nothing is closed) and put back. */
async function cable(targetPort: number): Promise<{ address: string; cut: () => void; heal: () => void }> {
  const sockets = new Set<net.Socket>();
  let cut = false;
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
      if (cut) s.pause();
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => relay.close(resolve));
  });
  const { port } = relay.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    cut: () => {
      cut = true;
      for (const s of sockets) s.pause();
    },
    heal: () => {
      cut = false;
      for (const s of sockets) s.resume();
    },
  };
}

function pool(extra: Partial<ConstructorParameters<typeof ConnectionPool>[0]> = {}): ConnectionPool {
  const p = new ConnectionPool({ credentials: clientCreds, connectTimeoutMs: 2_000, ...extra });
  cleanups.push(() => p.close());
  return p;
}

describe('PeerPolicy', () => {
  it('gives up a connection whose peer fell silent, says it was silence (not a reset), while the default watch waits on', async () => {
    const { port } = await startServer();
    const link = await cable(port);
    const watched = pool();
    watched.setPeerPolicy(serverCreds.nodeId, CLOSE_WATCH);
    const unwatched = pool();
    const events: DisconnectEvent[] = [];
    watched.onDisconnect((e) => events.push(e));
    const unwatchedEvents: DisconnectEvent[] = [];
    unwatched.onDisconnect((e) => unwatchedEvents.push(e));
    const peer = { address: link.address, nodeId: serverCreds.nodeId };
    await watched.request(peer, 'echo', 1);
    await unwatched.request(peer, 'echo', 1);

    // Keepalives keep the quiet connection's sign of life fresh.
    const first = watched.lastHeardFrom(serverCreds.nodeId);
    expect(first).toBeDefined();
    await eventually(() => (watched.lastHeardFrom(serverCreds.nodeId) ?? 0) > (first ?? 0), 2000);

    link.cut();
    await eventually(() => events.length > 0, 5000);
    expect(events[0]).toMatchObject({ wasConnected: true, silent: true });
    expect(watched.lastHeardFrom(serverCreds.nodeId)).toBeUndefined();
    // The default watch (30 s) has not given up on the same silence.
    expect(unwatchedEvents).toEqual([]);
    link.heal();
    expect(await watched.request(peer, 'echo', 2)).toBe(2);
  });

  it('reports a reset as no silence', async () => {
    const { server, port } = await startServer();
    const p = pool();
    p.setPeerPolicy(serverCreds.nodeId, CLOSE_WATCH);
    const events: DisconnectEvent[] = [];
    p.onDisconnect((e) => events.push(e));
    await p.request({ address: `127.0.0.1:${port}`, nodeId: serverCreds.nodeId }, 'echo', 1);
    for (const c of server.connections()) c.destroy();
    await eventually(() => events.length > 0);
    expect(events[0]).toMatchObject({ wasConnected: true, silent: false });
  });

  it('caps the reconnect backoff of a watched peer, and wake() redials one in backoff at once', async () => {
    const { server, port } = await startServer();
    await server.close();
    const address = `127.0.0.1:${port}`;
    const p = pool({ backoff: { initialMs: 60_000, maxMs: 60_000 } });
    const refused = async (): Promise<SkepError> => {
      try {
        await p.connect({ address, nodeId: serverCreds.nodeId });
      } catch (error) {
        if (error instanceof SkepError) return error;
        throw error;
      }
      throw new Error('connected');
    };
    // Unwatched: the pool's own minute of backoff.
    await refused();
    const waitMs = Number(/retrying in (\d+) ms/.exec((await refused()).message)?.[1]);
    expect(waitMs).toBeGreaterThan(10_000);

    p.setPeerPolicy(serverCreds.nodeId, CLOSE_WATCH);
    await startServer(port);
    // Still in the minute-long backoff dialed before the policy: wake() (the peer reached us) ends it.
    expect((await refused()).message).toMatch(/retrying in/);
    p.wake(serverCreds.nodeId);
    await eventually(() => p.lastHeardFrom(serverCreds.nodeId) !== undefined, 3000);

    // Watched from now on: after a failed dial the next one is allowed within the policy's cap
    // (the same pause left the unwatched peer above in its minute of backoff).
    const second = cleanups.pop();
    await second?.();
    p.disconnect({ address, nodeId: serverCreds.nodeId });
    await refused();
    await sleep(CLOSE_WATCH.maxBackoffMs * 1.2 + 30);
    expect((await refused()).message).not.toMatch(/retrying in/);
  });
});

// serveProtocol with a stand-in Authorizer and HandlerContext (a connection object that records
// close()): who is refused, why, with which error and counter — always before a handler runs.
import { beforeEach, describe, expect, it } from 'vitest';
import { SkepError, skepError } from '../../../shared/errors.js';
import type { HandlerContext, Logger, PeerIdentity, RpcConnection } from '../../../electron/net/index.js';
import { BOUNDS, METHODS, serveProtocol, type Authorizer, type Caller, type ProtocolServer } from '../../../electron/protocol/index.js';
import { newMessage } from '../../../electron/raft/core/messages.js';

const MANAGER: PeerIdentity = { nodeId: 'm1'.padEnd(25, '0'), role: 'swarm-manager' };
const OTHER: PeerIdentity = { nodeId: 'm2'.padEnd(25, '0'), role: 'swarm-manager' };
const WORKER: PeerIdentity = { nodeId: 'w1'.padEnd(25, '0'), role: 'swarm-worker' };

/** Decides by a table set per test, and records what it was asked. */
class TableAuthorizer implements Authorizer {
  readonly asked: { nodeId: string; callers: Caller }[] = [];
  deny = new Map<string, SkepError>();
  check(peer: PeerIdentity, callers: Caller): SkepError | undefined {
    this.asked.push({ nodeId: peer.nodeId, callers });
    return this.deny.get(peer.nodeId);
  }
}

/** Stand-in for the net layer's RpcConnection: only close() is used by the wrapper. */
interface ConnectionStandIn {
  closed: number;
  close(): void;
}

function context(peer: PeerIdentity | null): HandlerContext & { connection: ConnectionStandIn } {
  const connection: ConnectionStandIn = {
    closed: 0,
    close() {
      this.closed++;
    },
  };
  return { peer, remoteAddress: '10.0.0.5:40000', connection: connection as unknown as RpcConnection & ConnectionStandIn };
}

const heartbeat = {
  description: { hostname: 'w1', platform: { os: 'linux', architecture: 'x86_64' }, resources: { cpus: 2, memoryBytes: 2 ** 31 }, engineVersion: '27.5.1' },
  addr: '10.0.0.5',
  clusterAddr: '10.0.0.5:4789',
  certNotAfter: '2027-02-27T20:00:00.000Z',
};

function raftMessage(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...newMessage({ type: 'app', from: MANAGER.nodeId, to: OTHER.nodeId, term: 3, index: 7, logTerm: 2, commit: 6 }), ...overrides };
}

let authorizer: TableAuthorizer;
let server: ProtocolServer;
let handled: { method: string; body: unknown; nodeId: string }[];
let logged: string[];

beforeEach(() => {
  authorizer = new TableAuthorizer();
  handled = [];
  logged = [];
  const record = (method: string) => (body: unknown, caller: { nodeId: string }) => {
    handled.push({ method, body, nodeId: caller.nodeId });
  };
  const logger: Logger = { debug: (message) => logged.push(message), info: () => {}, warn: () => {}, error: () => {} };
  server = serveProtocol({
    authorizer,
    logger,
    requests: {
      'dispatcher.heartbeat': (body, caller) => {
        record('dispatcher.heartbeat')(body, caller);
        return { clusterId: 'c', leaderId: null, managers: [], desiredRole: 'worker' };
      },
      'dispatcher.forward': (body, caller) => {
        record('dispatcher.forward')(body, caller);
        return {};
      },
      'dispatcher.leave': (body, caller) => {
        record('dispatcher.leave')(body, caller);
        return {};
      },
      'ca.renewNodeCertificate': (body, caller) => {
        record('ca.renewNodeCertificate')(body, caller);
        return { certPem: 'CERT' };
      },
      // raft.view has no handler here, on purpose.
    },
    notifications: { 'raft.message': record('raft.message'), 'node.removed': record('node.removed') },
  });
});

async function request(method: string, body: unknown, peer: PeerIdentity | null = WORKER): Promise<{ reply?: unknown; error?: SkepError; ctx: ReturnType<typeof context> }> {
  const ctx = context(peer);
  const handler = server.handlers.requests?.[method];
  if (!handler) throw new Error(`no request handler for ${method}`);
  try {
    return { reply: await handler(body, ctx), ctx };
  } catch (error) {
    expect(error).toBeInstanceOf(SkepError);
    return { error: error as SkepError, ctx };
  }
}

function notify(method: string, body: unknown, peer: PeerIdentity | null = MANAGER): ReturnType<typeof context> {
  const ctx = context(peer);
  server.handlers.onNotify?.(method, body, ctx);
  return ctx;
}

describe('admitted calls', () => {
  it('reach the handler with the parsed body and the certificate\'s node as the caller', async () => {
    const { reply, error } = await request('dispatcher.heartbeat', heartbeat);
    expect(error).toBeUndefined();
    expect(reply).toEqual({ clusterId: 'c', leaderId: null, managers: [], desiredRole: 'worker' });
    expect(handled).toEqual([{ method: 'dispatcher.heartbeat', body: heartbeat, nodeId: WORKER.nodeId }]);
    expect(authorizer.asked).toEqual([{ nodeId: WORKER.nodeId, callers: 'node' }]);
  });

  it('ask the authorizer for the callers the table names', async () => {
    for (const method of Object.keys(METHODS) as (keyof typeof METHODS)[]) {
      authorizer.asked.length = 0;
      if (METHODS[method].kind === 'request') await request(method, {}, MANAGER);
      else notify(method, {}, MANAGER);
      expect(authorizer.asked).toEqual([{ nodeId: MANAGER.nodeId, callers: METHODS[method].callers }]);
    }
  });

  it('a Raft message from its own sender, with entries and a snapshot chunk, is delivered', () => {
    const entries = [{ term: 3, index: 8, type: 'normal', data: Buffer.from('{"op":"x"}') }];
    const snapshot = { metadata: { index: 5, term: 2, confState: { voters: [MANAGER.nodeId, OTHER.nodeId], learners: [] } }, offset: 0, totalBytes: 3, data: new Uint8Array(3) };
    notify('raft.message', raftMessage({ entries, context: new Uint8Array(8) }));
    notify('raft.message', raftMessage({ type: 'snap', snapshot }));
    expect(handled.map((h) => h.method)).toEqual(['raft.message', 'raft.message']);
    expect(server.refused).toEqual({ unauthenticated: 0, forbidden: 0, malformed: 0, impersonation: 0, unknownMethod: 0 });
  });

  it('only request methods are served as requests', () => {
    const served = Object.keys(server.handlers.requests ?? {}).sort();
    expect(served).toEqual(Object.entries(METHODS).filter(([, spec]) => spec.kind === 'request').map(([name]) => name).sort());
    expect(served).not.toContain('raft.message');
  });
});

describe('refusals before any handler', () => {
  it('an unknown method', () => {
    const ctx = notify('raft.snapshotEverything', {});
    expect(ctx.connection.closed).toBe(0);
    expect(server.refused.unknownMethod).toBe(1);
    expect(server.handlers.requests?.['raft.snapshotEverything']).toBeUndefined();
    expect(handled).toEqual([]);
  });

  it('a caller without a certificate', async () => {
    const { error } = await request('dispatcher.leave', {}, null);
    expect(error?.code).toBe('PERMISSION_DENIED');
    expect(error?.message).toBe('permission denied: dispatcher.leave: a node certificate is required');
    notify('raft.message', raftMessage(), null);
    expect(server.refused.unauthenticated).toBe(2);
    expect(authorizer.asked).toEqual([]);
    expect(handled).toEqual([]);
  });

  it('a caller the authorizer forbids gets the authorizer\'s error, before its body is even read', async () => {
    const denied = skepError('PERMISSION_DENIED', 'raft', 'only managers may call this');
    authorizer.deny.set(WORKER.nodeId, denied);
    const { error, ctx } = await request('dispatcher.forward', { garbage: true });
    expect(error).toBe(denied);
    expect(ctx.connection.closed).toBe(0);
    expect(server.refused).toMatchObject({ forbidden: 1, malformed: 0 });
    expect(handled).toEqual([]);
  });

  it('a removed node is told so once, and its connection closes', async () => {
    authorizer.deny.set(WORKER.nodeId, skepError('NODE_REMOVED'));
    const { error, ctx } = await request('dispatcher.heartbeat', heartbeat);
    expect(error?.code).toBe('NODE_REMOVED');
    // The refusal is answered first; the close follows on the next turn.
    expect(ctx.connection.closed).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ctx.connection.closed).toBe(1);
    expect(handled).toEqual([]);
  });

  it('a removed manager\'s Raft traffic is dropped and its connection closes', async () => {
    authorizer.deny.set(MANAGER.nodeId, skepError('NODE_REMOVED'));
    const ctx = notify('raft.message', raftMessage());
    await new Promise((resolve) => setImmediate(resolve));
    expect(ctx.connection.closed).toBe(1);
    expect(server.refused.forbidden).toBe(1);
    expect(handled).toEqual([]);
  });

  it('a Raft message that claims another sender than its certificate', () => {
    notify('raft.message', raftMessage({ from: OTHER.nodeId }));
    expect(server.refused.impersonation).toBe(1);
    expect(handled).toEqual([]);
    expect(logged).toEqual(['protocol: notification refused']);
  });

  it('a handler that is not installed answers unknown method', async () => {
    const { error } = await request('raft.view', {}, MANAGER);
    expect(error?.message).toBe('unknown method "raft.view"');
  });

  it('a request method sent as a notification never reaches a handler', () => {
    notify('dispatcher.leave', {}, WORKER);
    expect(handled).toEqual([]);
  });
});

const LONG_SECRET = 'S3CRET'.repeat(100);
const tooMany = <T>(n: number, item: T): T[] => Array.from({ length: n }, () => item);

/** [method, what is wrong, body, the path the error names] */
const MALFORMED: readonly [string, string, unknown, string][] = [
  ['raft.message', 'a negative term', raftMessage({ term: -1 }), 'term'],
  ['raft.message', 'a fractional index', raftMessage({ index: 1.5 }), 'index'],
  ['raft.message', 'an index past 2^53', raftMessage({ index: 2 ** 53 }), 'index'],
  ['raft.message', 'a term as a string', raftMessage({ term: '3' }), 'term'],
  ['raft.message', 'NaN for commit', raftMessage({ commit: Number.NaN }), 'commit'],
  ['raft.message', 'a local message type', raftMessage({ type: 'hup' }), 'type'],
  ['raft.message', 'a sender that is no node ID', raftMessage({ from: 'M1' }), 'from'],
  ['raft.message', 'an extra field', raftMessage({ priority: 1 }), 'body'],
  ['raft.message', 'no entries array', raftMessage({ entries: undefined }), 'entries'],
  ['raft.message', 'too many entries', raftMessage({ entries: tooMany(BOUNDS.entriesPerMessage + 1, { term: 1, index: 1, type: 'normal', data: new Uint8Array() }) }), 'entries'],
  ['raft.message', 'an oversize entry', raftMessage({ entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array(BOUNDS.entryBytes + 1) }] }), 'entries.0.data'],
  ['raft.message', 'entry data as a string', raftMessage({ entries: [{ term: 1, index: 1, type: 'normal', data: 'abc' }] }), 'entries.0.data'],
  ['raft.message', 'an entry with an extra field', raftMessage({ entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array(), x: 1 }] }), 'entries.0'],
  ['raft.message', 'an oversize context', raftMessage({ context: new Uint8Array(1025) }), 'context'],
  ['raft.message', 'an oversize snapshot chunk', raftMessage({ type: 'snap', snapshot: { metadata: { index: 1, term: 1, confState: { voters: [], learners: [] } }, offset: 0, totalBytes: 1, data: new Uint8Array(BOUNDS.snapshotChunkBytes + 1) } }), 'snapshot.data'],
  ['raft.message', 'a snapshot naming a bad voter', raftMessage({ type: 'snap', snapshot: { metadata: { index: 1, term: 1, confState: { voters: ['x'], learners: [] } }, offset: 0, totalBytes: 0, data: new Uint8Array() } }), 'snapshot.metadata.confState.voters.0'],
  ['raft.message', 'a body that is no object', 'app', 'body'],
  ['raft.view', 'an extra field', { verbose: true }, 'body'],
  ['raft.view', 'null', null, 'body'],
  ['dispatcher.heartbeat', 'an oversize hostname', { ...heartbeat, description: { ...heartbeat.description, hostname: LONG_SECRET } }, 'description.hostname'],
  ['dispatcher.heartbeat', 'negative CPUs', { ...heartbeat, description: { ...heartbeat.description, resources: { cpus: -1, memoryBytes: 1 } } }, 'description.resources.cpus'],
  ['dispatcher.heartbeat', 'fractional CPUs', { ...heartbeat, description: { ...heartbeat.description, resources: { cpus: 1.5, memoryBytes: 1 } } }, 'description.resources.cpus'],
  ['dispatcher.heartbeat', 'negative memory', { ...heartbeat, description: { ...heartbeat.description, resources: { cpus: 1, memoryBytes: -1 } } }, 'description.resources.memoryBytes'],
  ['dispatcher.heartbeat', 'an engine version as a number', { ...heartbeat, description: { ...heartbeat.description, engineVersion: 27 } }, 'description.engineVersion'],
  ['dispatcher.heartbeat', 'a cluster address without a port', { ...heartbeat, clusterAddr: '10.0.0.5' }, 'clusterAddr'],
  ['dispatcher.heartbeat', 'a port past 65535', { ...heartbeat, clusterAddr: '10.0.0.5:65536' }, 'clusterAddr'],
  ['dispatcher.heartbeat', 'port 0', { ...heartbeat, clusterAddr: '[fd00::5]:0' }, 'clusterAddr'],
  ['dispatcher.heartbeat', 'an oversize address', { ...heartbeat, addr: LONG_SECRET }, 'addr'],
  ['dispatcher.heartbeat', 'a certificate expiry that is no date', { ...heartbeat, certNotAfter: 'tomorrow' }, 'certNotAfter'],
  ['dispatcher.heartbeat', 'a node ID of its own choosing', { ...heartbeat, nodeId: OTHER.nodeId }, 'body'],
  ['dispatcher.heartbeat', 'no description', { ...heartbeat, description: undefined }, 'description'],
  ['dispatcher.forward', 'a bad node ID', { nodeId: 'nope', report: heartbeat }, 'nodeId'],
  ['dispatcher.forward', 'a malformed report', { nodeId: WORKER.nodeId, report: { ...heartbeat, addr: 5 } }, 'report.addr'],
  ['dispatcher.forward', 'an extra field', { nodeId: WORKER.nodeId, report: heartbeat, role: 'manager' }, 'body'],
  ['dispatcher.leave', 'a node ID in the body', { nodeId: OTHER.nodeId }, 'body'],
  ['ca.renewNodeCertificate', 'an oversize CSR', { csrPem: 'A'.repeat(BOUNDS.csrPemBytes + 1) }, 'csrPem'],
  ['ca.renewNodeCertificate', 'a CSR as a number', { csrPem: 1 }, 'csrPem'],
  ['ca.renewNodeCertificate', 'a role asked for', { csrPem: 'CSR', role: 'swarm-manager' }, 'body'],
  ['node.removed', 'an extra field', { reason: LONG_SECRET }, 'body'],
];

describe('malformed bodies are refused with the path at fault, never the value', () => {
  it.each(MALFORMED)('%s: %s', async (method, _what, body, path) => {
    const spec = METHODS[method as keyof typeof METHODS];
    const peer = spec.callers === 'raft-member' ? MANAGER : WORKER;
    if (spec.kind === 'request') {
      const { error } = await request(method, body, peer);
      expect(error?.code).toBe('INVALID_REQUEST');
      expect(error?.message).toMatch(new RegExp(`^invalid request: ${method.replace('.', '\\.')}: ${path.replace(/\./g, '\\.')}: `));
      expect(error?.message).not.toContain('S3CRET');
    } else {
      const ctx = notify(method, body, peer);
      expect(ctx.connection.closed).toBe(0);
      expect(logged).toEqual(['protocol: notification refused']);
    }
    expect(server.refused.malformed).toBe(1);
    expect(handled).toEqual([]);
  });

  it('the same bodies, well formed, are admitted (so each case above fails for its own reason)', async () => {
    expect((await request('dispatcher.heartbeat', heartbeat)).error).toBeUndefined();
    expect((await request('dispatcher.heartbeat', { ...heartbeat, clusterAddr: '[fd00::5]:65535' })).error).toBeUndefined();
    expect((await request('dispatcher.forward', { nodeId: WORKER.nodeId, report: heartbeat }, MANAGER)).error).toBeUndefined();
    expect((await request('dispatcher.leave', {})).error).toBeUndefined();
    expect((await request('ca.renewNodeCertificate', { csrPem: 'A'.repeat(BOUNDS.csrPemBytes) })).error).toBeUndefined();
    notify('raft.message', raftMessage({ entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array(BOUNDS.entryBytes) }] }));
    notify('node.removed', {});
    expect(handled).toHaveLength(7);
    expect(server.refused.malformed).toBe(0);
  });
});

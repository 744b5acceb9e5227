// The calling side: replies are checked against the table's reply schemas. The pool is a stand-in
// that answers with whatever a test puts in it (the real pool and TLS are tested in tests/unit/net).
import { describe, expect, it } from 'vitest';
import { SkepError } from '../../../shared/errors.js';
import type { ConnectionPool, PeerRef } from '../../../electron/net/index.js';
import { call, send } from '../../../electron/protocol/index.js';

const LEADER = 'm1'.padEnd(25, '0');
const PEER: PeerRef = { address: '10.0.0.1:4789', nodeId: LEADER, role: 'swarm-manager' };

/** Answers every request with `reply` and records what was sent. */
function poolAnswering(reply: unknown): ConnectionPool & { sent: { method: string; body: unknown }[] } {
  const sent: { method: string; body: unknown }[] = [];
  const pool = {
    sent,
    request: (_peer: PeerRef, method: string, body: unknown) => {
      sent.push({ method, body });
      return Promise.resolve(reply);
    },
    notify: (_peer: PeerRef, method: string, body: unknown) => {
      sent.push({ method, body });
      return true;
    },
  };
  return pool as unknown as ConnectionPool & { sent: typeof sent };
}

const report = {
  description: { hostname: 'w1', platform: { os: 'linux', architecture: 'x86_64' }, resources: { cpus: 2, memoryBytes: 1 }, engineVersion: '' },
  addr: '10.0.0.5',
  clusterAddr: '10.0.0.5:4789',
  certNotAfter: '2027-02-27T20:00:00.000Z',
};
const answer = { clusterId: 'c1', leaderId: LEADER, managers: [{ nodeId: LEADER, addr: '10.0.0.1:4789' }], desiredRole: 'manager' };

async function protocolError(promise: Promise<unknown>): Promise<SkepError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SkepError);
  expect((error as SkepError).code).toBe('PROTOCOL_ERROR');
  return error as SkepError;
}

describe('call', () => {
  it('returns a reply that fits the method\'s schema', async () => {
    const pool = poolAnswering(answer);
    expect(await call(pool, PEER, 'dispatcher.heartbeat', report)).toEqual(answer);
    expect(pool.sent).toEqual([{ method: 'dispatcher.heartbeat', body: report }]);
  });

  it.each([
    ['a role the swarm does not have', { ...answer, desiredRole: 'admin' }],
    ['an extra field', { ...answer, token: 'SKEP-1-secret' }],
    ['a leader that is no node ID', { ...answer, leaderId: '../../etc' }],
    ['no reply at all', undefined],
  ])('refuses a heartbeat answer with %s, naming the peer but not the value', async (_what, reply) => {
    const error = await protocolError(call(poolAnswering(reply), PEER, 'dispatcher.heartbeat', report));
    expect(error.message).toContain('malformed reply to dispatcher.heartbeat from 10.0.0.1:4789');
    expect(error.message).not.toContain('secret');
    expect(error.message).not.toContain('etc');
  });

  it('refuses a Raft view with a negative term or too many members', async () => {
    const view = { term: 1, leaderId: null, commitIndex: 0, appliedIndex: 0, members: [] };
    expect(await call(poolAnswering(view), PEER, 'raft.view', {})).toEqual(view);
    await protocolError(call(poolAnswering({ ...view, term: -1 }), PEER, 'raft.view', {}));
    const member = { nodeId: LEADER, hostname: 'm1', addr: '', role: 'leader', reachable: true, matchIndex: null, lag: null, lastContactMs: null };
    await protocolError(call(poolAnswering({ ...view, members: Array.from({ length: 65 }, () => member) }), PEER, 'raft.view', {}));
  });
});

describe('send', () => {
  it('hands a notification to the pool unchanged', () => {
    const pool = poolAnswering(undefined);
    expect(send(pool, PEER, 'node.removed', {})).toBe(true);
    expect(pool.sent).toEqual([{ method: 'node.removed', body: {} }]);
  });
});

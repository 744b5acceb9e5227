// Node-to-node trust, tried from outside with real certificates read from the nodes' own data
// directories: a worker's key and certificate try every manager-only method; a removed node's
// connections are cut on every manager; malformed Raft traffic from a real manager changes nothing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SkepError } from '../../shared/errors.js';
import type { SwarmStatus } from '../../shared/types.js';
import { ConnectionPool, type PeerRef, type RpcConnection } from '../../electron/net/index.js';
import { createNodeKeyAndCsr, readNodeCertificate } from '../../electron/swarm/ca/index.js';
import { Cluster, expectOk, sleep, waitUntil, type SkepNode } from './harness.js';

function credentialsOf(node: SkepNode): { certPem: string; keyPem: string; caPem: string } {
  const dir = path.join(node.dataDir, 'swarm', 'certificates');
  return { certPem: readFileSync(path.join(dir, 'node.crt'), 'utf8'), keyPem: readFileSync(path.join(dir, 'node.key'), 'utf8'), caPem: readFileSync(path.join(dir, 'ca.crt'), 'utf8') };
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    // A snapshot's temp file may be renamed away between the listing and this stat.
    const info = statSync(file, { throwIfNoEntry: false });
    if (info) total += info.isDirectory() ? bytesUnder(file) : info.size;
  }
  return total;
}

function raftMessage(fields: Record<string, unknown>): Record<string, unknown> {
  return { type: 'heartbeat', from: '', to: '', term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...fields };
}

async function refusal(promise: Promise<unknown>): Promise<SkepError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SkepError) return error;
    throw error;
  }
  throw new Error('the call was accepted');
}

interface Fingerprint {
  term: number;
  leaderId: string | null;
  commitIndex: number;
  nodes: string;
  raftBytes: number;
}

describe('trust between nodes: roles, membership, bodies', () => {
  const cluster = new Cluster({ subnet: 37, heartbeatMs: 500 });
  let managers: SkepNode[];
  let w1: SkepNode, w2: SkepNode;
  let workerPool: ConnectionPool;

  async function fingerprint(node: SkepNode): Promise<Fingerprint> {
    const status = (await node.status()) as Extract<SwarmStatus, { state: 'active' }>;
    // Heartbeat bookkeeping (updatedAt) is not what this compares: who is in the swarm, in which role, with which labels.
    const nodes = JSON.stringify((await node.nodes()).map((n) => [n.id, n.role, n.spec, n.status.state, n.status.addr]));
    return { term: status.raft?.term ?? -1, leaderId: status.leaderId, commitIndex: status.raft?.commitIndex ?? -1, nodes, raftBytes: bytesUnder(path.join(node.dataDir, 'swarm', 'raft')) };
  }

  beforeAll(async () => {
    const nodes = await cluster.add(5);
    managers = nodes.slice(0, 3);
    [w1, w2] = nodes.slice(3) as [SkepNode, SkepNode];
    const [m1, m2, m3] = managers as [SkepNode, SkepNode, SkepNode];
    await cluster.init(m1);
    await cluster.join(m2, 'manager', m1);
    await cluster.join(m3, 'manager', m1);
    await cluster.join(w1, 'worker', m1);
    await cluster.join(w2, 'worker', m1);
    await cluster.waitForNodes(m1, '3 managers and 2 workers Ready', (list) => list.length === 5 && list.every((n) => n.status.state === 'ready') && list.filter((n) => n.managerStatus?.reachability === 'reachable').length === 3);
    workerPool = new ConnectionPool({ credentials: credentialsOf(w1), requestTimeoutMs: 3000, backoff: { initialMs: 20, maxMs: 200 } });
  }, 120_000);
  afterAll(async () => {
    workerPool?.close();
    await cluster.cleanup();
  }, 60_000);

  test('a worker\'s certificate is refused every manager-only method, and nothing in the swarm moves', async () => {
    const before = await Promise.all(managers.map((m) => fingerprint(m)));
    const term = before[0]!.term;
    const leaderId = before[0]!.leaderId!;
    const leader = cluster.byId(leaderId)!;

    for (const target of managers) {
      const peer: PeerRef = { address: target.addr, nodeId: target.id, role: 'swarm-manager' };
      // Raft messages of every type, as itself and with higher terms: dropped before Raft sees them.
      for (const type of ['app', 'appResp', 'vote', 'voteResp', 'preVote', 'preVoteResp', 'heartbeat', 'heartbeatResp', 'snap', 'timeoutNow', 'readIndexResp', 'prop', 'transferLeader', 'readIndex']) {
        workerPool.notify(peer, 'raft.message', raftMessage({ type, from: w1.id, to: target.id, term: term + 1000, commit: 1_000_000, index: 5 }));
        workerPool.notify(peer, 'raft.message', raftMessage({ type, from: w1.id, to: target.id, term }));
      }
      // A forwarded proposal that would promote the worker.
      const promote = new TextEncoder().encode(JSON.stringify({ op: 'node.spec', id: w1.id, at: new Date().toISOString(), role: 'manager' }));
      workerPool.notify(peer, 'raft.message', raftMessage({ type: 'prop', from: w1.id, to: target.id, term, entries: [{ term: 0, index: 0, type: 'normal', data: promote }] }));
      // Posing as the leader.
      workerPool.notify(peer, 'raft.message', raftMessage({ from: leaderId, to: target.id, term: term + 1, commit: 1_000_000 }));

      const forward = await refusal(workerPool.request(peer, 'dispatcher.forward', {
        nodeId: target.id,
        report: { description: { hostname: 'evil', platform: { os: 'linux', architecture: 'x86_64' }, resources: { cpus: 1, memoryBytes: 1 }, engineVersion: '' }, addr: '10.9.9.9', clusterAddr: '10.9.9.9:2377', certNotAfter: new Date().toISOString() },
      }));
      expect(forward.code).toBe('PERMISSION_DENIED');
      expect((await refusal(workerPool.request(peer, 'raft.view', {}))).code).toBe('PERMISSION_DENIED');
      // Renewal is always for the caller itself: a body naming another node does not even parse.
      const key = await createNodeKeyAndCsr();
      expect((await refusal(workerPool.request(peer, 'ca.renewNodeCertificate', { csrPem: key.csrPem, nodeId: target.id }))).code).toBe('INVALID_REQUEST');
      const { certPem } = await workerPool.request<{ certPem: string }>(peer, 'ca.renewNodeCertificate', { csrPem: key.csrPem });
      expect(readNodeCertificate(certPem)).toMatchObject({ nodeId: w1.id, role: 'swarm-worker' });
      // Bodies are checked and bounded before any handler runs.
      const good = { description: { hostname: 'w1', platform: { os: 'linux', architecture: 'x86_64' }, resources: { cpus: 2, memoryBytes: 1024 }, engineVersion: '' }, addr: w1.ip, clusterAddr: w1.addr, certNotAfter: new Date(Date.now() + 86_400_000).toISOString() };
      for (const bad of [
        { ...good, description: { ...good.description, hostname: 'x'.repeat(4 * 1024 * 1024) } },
        { ...good, description: { ...good.description, resources: { cpus: -5, memoryBytes: 1 } } },
        { ...good, certNotAfter: 'never' },
        { ...good, nodeId: target.id },
        { ...good, clusterAddr: 'not an address' },
      ]) {
        expect((await refusal(workerPool.request(peer, 'dispatcher.heartbeat', bad))).code).toBe('INVALID_REQUEST');
      }
    }
    await sleep(1500);
    const after = await Promise.all(managers.map((m) => fingerprint(m)));
    expect(after).toEqual(before);
    expect(leader.running).toBe(true);
    // The swarm still takes writes.
    expectOk(await managers[0]!.cli('node', 'update', '--label-add', 'trust=ok', w2.id), 'a write after the attempts');
  });

  test('a malformed or impossible Raft message from a real manager leaves every manager healthy', async () => {
    const [m1, m2] = managers as [SkepNode, SkepNode];
    const pool = new ConnectionPool({ credentials: credentialsOf(m2), requestTimeoutMs: 3000 });
    try {
      const status = (await m1.status()) as Extract<SwarmStatus, { state: 'active' }>;
      const term = status.raft!.term;
      for (const target of managers.filter((m) => m !== m2)) {
        const peer: PeerRef = { address: target.addr, nodeId: target.id, role: 'swarm-manager' };
        for (const fields of [
          { commit: -1 },
          { term: 'seven' },
          { entries: 'none' },
          { index: 1.5 },
          { type: 'hup' },
          { from: 'not-a-node-id' },
          { entries: [{ term: 1, index: 1, type: 'normal', data: 'not bytes' }] },
          // Well-formed but impossible: a commit far past the receiver's log, an append with a gap.
          { commit: 1_000_000_000 },
          { type: 'app', index: 1_000_000, logTerm: term, commit: 1_000_000_000, entries: [{ term, index: 1_000_001, type: 'normal', data: new Uint8Array([1]) }] },
        ]) {
          pool.notify(peer, 'raft.message', raftMessage({ from: m2.id, to: target.id, term, ...fields }));
        }
      }
      await sleep(1000);
      for (const m of managers) expect(m.running).toBe(true);
      await cluster.waitForLeader(managers);
      expectOk(await m1.cli('node', 'update', '--label-add', 'malformed=survived', w2.id), 'a write after malformed Raft traffic');
      for (const m of managers) {
        const nodes = await m.nodes();
        expect(nodes.find((n) => n.id === w2.id)?.spec.labels.malformed).toBe('survived');
      }
    } finally {
      pool.close();
    }
  });

  test('a removed node\'s open connections are cut on every manager, not only the one that ran node rm', async () => {
    const pool = new ConnectionPool({ credentials: credentialsOf(w2), requestTimeoutMs: 3000 });
    try {
      // One live connection to each manager, each proven open by a call that succeeds.
      const connections: RpcConnection[] = [];
      for (const m of managers) {
        const peer: PeerRef = { address: m.addr, nodeId: m.id, role: 'swarm-manager' };
        const report = { description: { hostname: 'w2', platform: { os: 'linux', architecture: 'x86_64' }, resources: { cpus: 1, memoryBytes: 1 }, engineVersion: '' }, addr: w2.ip, clusterAddr: w2.addr, certNotAfter: new Date(Date.now() + 86_400_000).toISOString() };
        await pool.request(peer, 'dispatcher.heartbeat', report);
        connections.push(await pool.connect(peer));
      }
      const closed = connections.map((c) => new Promise<number>((resolve) => c.onClose(() => resolve(Date.now()))));
      const started = Date.now();
      expectOk(await managers[0]!.cli('node', 'rm', '--force', w2.id), 'node rm --force');
      const at = await Promise.race([Promise.all(closed), sleep(20_000).then(() => 'timeout' as const)]);
      expect(at, 'every manager closed the removed node\'s connection').not.toBe('timeout');
      console.log(`removed node's connections closed after ${(at as number[]).map((t) => t - started).join(', ')} ms`);
      // And new calls with its certificate are answered with the reason, then cut.
      for (const m of managers) {
        const peer: PeerRef = { address: m.addr, nodeId: m.id, role: 'swarm-manager' };
        const error = await refusal(pool.request(peer, 'raft.view', {}));
        expect(['NODE_REMOVED', 'CONNECTION_CLOSED', 'PEER_UNREACHABLE']).toContain(error.code);
      }
      await waitUntil('the removed worker to say it was removed', async () => {
        const status = await w2.status();
        return status.state === 'active' && status.failure?.code === 'NODE_REMOVED';
      });
    } finally {
      pool.close();
    }
  });
});

// Encryption at rest: the CA key and both join-token secrets are found in no file of any manager's
// data directory — after writes, after every manager took a snapshot, and after
// --force-new-cluster (with the old log it keeps) — while each manager's own data key still reads
// them back. And an old, unencrypted data directory is sealed when its daemon starts.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ClusterRecord } from '../../electron/swarm/state/store.js';
import { clusterRecordFromDisk, filesContaining, readKeyFile, rewriteInClear, secretNeedles } from './at-rest-support.js';
import { Cluster, expectOk, labelAdd, managerCounts, waitUntil, type SkepNode } from './harness.js';

function raftDir(node: SkepNode): string {
  return path.join(node.dataDir, 'swarm', 'raft');
}

async function dataKeyOf(node: SkepNode): Promise<Buffer> {
  const file = await readKeyFile(node.dataDir);
  if (!file || file.autolock) throw new Error(`${node.name} has no clear key file`);
  return Buffer.from(file.dataKey, 'base64');
}

async function snapshotsOf(node: SkepNode): Promise<string[]> {
  return (await readdir(path.join(raftDir(node), 'snap')).catch(() => [])).filter((n) => n.endsWith('.snap'));
}

describe('encryption at rest on three managers', () => {
  const cluster = new Cluster({ subnet: 43, heartbeatMs: 500 });
  let m1: SkepNode, m2: SkepNode, m3: SkepNode;
  let record: ClusterRecord & { readonly everySecret: readonly string[] };
  let needles: Record<string, string>;

  beforeAll(async () => {
    [m1, m2, m3] = (await cluster.add(3)) as [SkepNode, SkepNode, SkepNode];
    await cluster.init(m1);
    await cluster.join(m2, 'manager', m1);
    await cluster.join(m3, 'manager', m1);
    await cluster.waitForNodes(m1, '1 leader, 2 reachable', (nodes) => {
      const c = managerCounts(nodes);
      return c.leaders === 1 && c.reachable === 2;
    });
    // A rotated token too: its secret is written again, in a later entry.
    expectOk(await m1.cli('swarm', 'join-token', '--rotate', 'worker'), 'rotate the worker token');
    expectOk(await labelAdd(m1, m2.id, 'written', 'yes'), 'a label write');
    record = await clusterRecordFromDisk(raftDir(m1), await dataKeyOf(m1));
    needles = secretNeedles(record);
  }, 120_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('each manager reads the secrets back with its own data key, and no file holds them in clear', async () => {
    const workerToken = await cluster.token(m1, 'worker');
    expect(workerToken.endsWith(`-${record.tokenSecrets.worker}`)).toBe(true);
    expect(Object.keys(needles).filter((n) => n.startsWith('CA key')).length).toBeGreaterThan(1);
    // The secret from before the rotation is still in the log (sealed): it is searched for too.
    expect(record.everySecret.length).toBe(3);
    const keys = await Promise.all([m1, m2, m3].map(dataKeyOf));
    expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(3);
    for (const node of [m1, m2, m3]) {
      await waitUntil(`${node.name} to apply the label`, async () => (await node.api((api) => api.nodeInspect(m2.id))).spec.labels.written === 'yes');
      const own = await clusterRecordFromDisk(raftDir(node), await dataKeyOf(node));
      expect(own.ca.keyPem).toBe(record.ca.keyPem);
      expect(own.tokenSecrets).toEqual(record.tokenSecrets);
      expect(await filesContaining(node.dataDir, needles)).toEqual([]);
    }
  });

  test('after every manager took a snapshot, still nothing in clear', async () => {
    // 2,000 applied entries make each manager snapshot and compact (RaftStore's snapshotEntries).
    for (let batch = 0; batch < 42; batch++) {
      await m1.api((api) => Promise.all(Array.from({ length: 50 }, (_, i) => api.nodeUpdate(m3.id, { labelAdd: { [`k${i}`]: String(batch) } }))));
    }
    for (const node of [m1, m2, m3]) {
      await waitUntil(`${node.name} to write a snapshot`, async () => (await snapshotsOf(node)).length > 0, { timeoutMs: 60_000 });
      expect(await filesContaining(node.dataDir, needles)).toEqual([]);
      const fromSnapshot = await clusterRecordFromDisk(raftDir(node), await dataKeyOf(node));
      expect(fromSnapshot.ca.keyPem).toBe(record.ca.keyPem);
    }
  }, 180_000);

  test('after --force-new-cluster (the old log kept beside the new), still nothing in clear', async () => {
    const leader = await cluster.waitForLeader([m1, m2, m3]);
    const survivor = [m1, m2, m3].find((m) => m !== leader)!;
    await Promise.all([m1, m2, m3].filter((m) => m !== survivor).map((m) => m.kill9()));
    expectOk(await survivor.cli('swarm', 'init', '--force-new-cluster', '--listen-addr', survivor.addr), 'force-new-cluster');
    await cluster.waitForLeader([survivor]);
    expectOk(await labelAdd(survivor, survivor.id, 'after', 'force'), 'a write after force-new-cluster');
    const kept = (await readdir(path.join(survivor.dataDir, 'swarm'))).filter((n) => n.startsWith('raft.before-force-new-cluster-'));
    expect(kept).toHaveLength(1);
    expect((await clusterRecordFromDisk(path.join(survivor.dataDir, 'swarm', kept[0]!), await dataKeyOf(survivor))).ca.keyPem).toBe(record.ca.keyPem);
    expect((await clusterRecordFromDisk(raftDir(survivor), await dataKeyOf(survivor))).ca.keyPem).toBe(record.ca.keyPem);
    for (const node of [m1, m2, m3]) expect(await filesContaining(node.dataDir, needles)).toEqual([]);
  }, 120_000);
});

describe('an unencrypted data directory from before encryption at rest', () => {
  const cluster = new Cluster({ subnet: 44, heartbeatMs: 500, port: 2477 });
  let m1: SkepNode;

  beforeAll(async () => {
    [m1] = (await cluster.add(1)) as [SkepNode];
    await cluster.init(m1);
    expectOk(await labelAdd(m1, m1.id, 'before', 'migration'), 'a label write');
  }, 60_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('is sealed when its daemon starts: the clear copies are gone, the swarm is intact', async () => {
    const dataKey = await dataKeyOf(m1);
    const record = await clusterRecordFromDisk(raftDir(m1), dataKey);
    const needles = secretNeedles(record);
    await m1.stop();
    await rewriteInClear(m1.dataDir, dataKey);
    // The fixture is what older Skep wrote: the secrets in clear, no key file.
    expect((await filesContaining(m1.dataDir, needles)).length).toBeGreaterThan(0);
    expect(await readKeyFile(m1.dataDir)).toBeNull();

    await m1.start();
    await cluster.waitForLeader([m1]);
    expect(m1.logs()).toContain('sealed the Raft data with the current data key');
    expect((await m1.api((api) => api.nodeInspect(m1.id))).spec.labels.before).toBe('migration');
    expectOk(await labelAdd(m1, m1.id, 'after', 'migration'), 'a write after the migration');
    expect(await filesContaining(m1.dataDir, needles)).toEqual([]);
    const newKey = await dataKeyOf(m1);
    expect((await clusterRecordFromDisk(raftDir(m1), newKey)).ca.keyPem).toBe(record.ca.keyPem);
  }, 120_000);
});

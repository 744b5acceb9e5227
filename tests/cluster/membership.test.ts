// Membership beyond the refusals: a worker's leave is reported (Down until removed, then a plain `node rm`
// works); a demoted manager leaves Raft and carries on as a worker; `swarm leave --force` on the last manager
// wipes the swarm, which stays gone after a restart. Also: key files 0600, data directories 0700, and no
// secret in any log.
import { X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skepError } from '../../shared/errors.js';
import { Cluster, daemonErrorLine, expectOk, managerCounts, waitUntil, type SkepNode } from './harness.js';

/** The role a node's certificate states (its OU), and whose it is (its CN). */
function certificateOf(node: SkepNode): { cn: string; ou: string; notAfter: string } {
  const pem = readFileSync(path.join(node.dataDir, 'swarm', 'certificates', 'node.crt'), 'utf8');
  const cert = new X509Certificate(pem);
  const field = (name: string): string => cert.subject.split('\n').find((line) => line.startsWith(`${name}=`))?.slice(name.length + 1) ?? '';
  return { cn: field('CN'), ou: field('OU'), notAfter: cert.validTo };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? [full, ...walk(full)] : [full];
  });
}

describe('leave, demote and local state', () => {
  const cluster = new Cluster({ subnet: 36, heartbeatMs: 500 });
  let m1: SkepNode, m2: SkepNode, w1: SkepNode, solo: SkepNode;
  const tokens: string[] = [];

  beforeAll(async () => {
    [m1, m2, w1, solo] = (await cluster.add(4)) as [SkepNode, SkepNode, SkepNode, SkepNode];
    await cluster.init(m1);
    tokens.push(await cluster.token(m1, 'worker'), await cluster.token(m1, 'manager'));
    await cluster.join(w1, 'worker', m1);
    await cluster.join(m2, 'manager', m1);
    await cluster.waitForNodes(m1, '1 leader, 1 reachable, 3 ready', (nodes) => {
      const c = managerCounts(nodes);
      return c.leaders === 1 && c.reachable === 1 && c.ready === 3;
    });
  }, 120_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('key files are 0600 and directories 0700 on every node', () => {
    for (const node of [m1, m2, w1]) {
      const swarmDir = path.join(node.dataDir, 'swarm');
      expect(statSync(node.dataDir).mode & 0o777, node.dataDir).toBe(0o700);
      const files = walk(swarmDir);
      expect(files.map((f) => path.basename(f))).toContain('node.key');
      for (const file of files) {
        // A daemon's atomic write may rename its temp file away between the listing and this stat
        // (temp files are created 0600, so nothing is missed by skipping one that is gone).
        const stat = statSync(file, { throwIfNoEntry: false });
        if (stat === undefined) continue;
        // Everything under swarm/ is secret: the key, and the Raft log and snapshots that hold the CA key and token secrets.
        if (stat.isDirectory()) expect(stat.mode & 0o777, file).toBe(0o700);
        else expect(stat.mode & 0o077, file).toBe(0);
      }
    }
  });

  test('a worker that leaves shows Down until removed; then node rm needs no --force', async () => {
    const left = expectOk(await w1.cli('swarm', 'leave'), 'worker leave');
    expect(left.stdout).toBe('Node left the swarm.\n');
    expect(await w1.status()).toEqual({ state: 'inactive' });
    await cluster.waitForNodes(m1, 'the worker Down', (nodes) => nodes.find((n) => n.id === w1.id)?.status.state === 'down');
    expectOk(await m1.cli('node', 'rm', w1.id), 'node rm of a Down worker');
    expect((await m1.nodes()).map((n) => n.id)).not.toContain(w1.id);
    // It can join again, as a new node.
    const before = w1.id;
    await cluster.join(w1, 'worker', m1);
    expect(w1.id).not.toBe(before);
  });

  test('a demoted manager leaves Raft and stays in the swarm as a worker', async () => {
    await cluster.waitForLeader([m1, m2]);
    const demoted = expectOk(await m1.cli('node', 'demote', m2.id), 'demote');
    expect(demoted.stdout).toBe(`Manager ${m2.id} demoted in the swarm.\n`);
    await waitUntil('m2 to be a worker', async () => {
      const status = await m2.status();
      return status.state === 'active' && status.role === 'worker';
    });
    await waitUntil('one manager left in Raft', async () => {
      const status = await m1.status();
      return status.state === 'active' && status.managers === 1 && status.leaderId === m1.id;
    });
    const nodes = await cluster.waitForNodes(m1, 'm2 a Ready worker', (list) => {
      const n = list.find((x) => x.id === m2.id);
      return n?.role === 'worker' && n.status.state === 'ready';
    });
    expect(nodes.find((n) => n.id === m2.id)?.managerStatus).toBeUndefined();
    const onWorker = await m2.cli('node', 'ls');
    expect(onWorker).toEqual({ code: 1, stdout: '', stderr: daemonErrorLine(skepError('NOT_A_MANAGER').message) });
    // And promoted back.
    expectOk(await m1.cli('node', 'promote', m2.id), 'promote');
    await cluster.waitForNodes(m1, 'm2 Reachable again', (list) => list.find((x) => x.id === m2.id)?.managerStatus?.reachability === 'reachable', 60_000);
  });

  test('certificates follow the role: renewed as a worker on demotion and as a manager on promotion, same node ID', async () => {
    expect(certificateOf(m1)).toMatchObject({ cn: m1.id, ou: 'swarm-manager' });
    expect(certificateOf(w1)).toMatchObject({ cn: w1.id, ou: 'swarm-worker' });
    // m2 was demoted and promoted back above; its certificate says manager again.
    await waitUntil("m2's certificate to say manager", () => certificateOf(m2).ou === 'swarm-manager');
    const before = certificateOf(m2);
    expectOk(await m1.cli('node', 'demote', m2.id), 'demote');
    await waitUntil("m2's certificate to say worker", () => certificateOf(m2).ou === 'swarm-worker');
    expect(certificateOf(m2).cn).toBe(before.cn);
    // The renewed certificate works: m2's heartbeats keep it Ready, and it can be promoted again.
    await cluster.waitForNodes(m1, 'm2 a Ready worker', (list) => {
      const n = list.find((x) => x.id === m2.id);
      return n?.role === 'worker' && n.status.state === 'ready';
    });
    expectOk(await m1.cli('node', 'promote', m2.id), 'promote');
    await waitUntil("m2's certificate to say manager again", () => certificateOf(m2).ou === 'swarm-manager');
    await cluster.waitForNodes(m1, 'm2 Reachable again', (list) => list.find((x) => x.id === m2.id)?.managerStatus?.reachability === 'reachable', 60_000);
  });

  test('leave --force on the last manager wipes the swarm; it stays inactive after a restart', async () => {
    await cluster.init(solo);
    tokens.push(await cluster.token(solo, 'worker'), await cluster.token(solo, 'manager'));
    expect((await solo.cli('swarm', 'leave')).stderr).toBe(daemonErrorLine(skepError('LEAVE_LAST_MANAGER').message));
    expect(expectOk(await solo.cli('swarm', 'leave', '--force'), 'leave --force').stdout).toBe('Node left the swarm.\n');
    expect(await solo.status()).toEqual({ state: 'inactive' });
    await solo.stop();
    await solo.start();
    expect(await solo.status()).toEqual({ state: 'inactive' });
    // And it can start a new swarm.
    await cluster.init(solo);
    expect(await solo.status()).toMatchObject({ state: 'active', leaderId: solo.id });
  });

  test('no join token secret appears in any daemon log', () => {
    for (const node of cluster.nodes) {
      for (const token of tokens) expect(node.logs(), `${node.name}'s log`).not.toContain(token.slice(-25));
    }
  });
});

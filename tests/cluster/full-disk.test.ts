// A manager whose disk fills up: its Raft node stops, the daemon says so (swarm status and node ls
// fail with the reason), the rest of the swarm goes on, and when space is freed the manager starts
// again by itself and catches up. The data directory is a real, small tmpfs.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, expectOk, waitUntil, type SkepNode } from './harness.js';

const whyNot = typeof process.getuid === 'function' && process.getuid() !== 0 ? 'mounting a tmpfs needs root (CI runs as root)' : undefined;
if (whyNot) console.log(`skipping the full-disk test: ${whyNot}`);

/** Writes zeros until the file system says ENOSPC; returns the bytes written. */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) {
      try {
        written += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return written;
        throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(whyNot !== undefined)('a manager whose disk is full', () => {
  const cluster = new Cluster({ subnet: 38, heartbeatMs: 500 });
  let m1: SkepNode, m2: SkepNode, m3: SkepNode;
  let mounted = false;

  beforeAll(async () => {
    [m1, m2, m3] = (await cluster.add(3)) as [SkepNode, SkepNode, SkepNode];
    await m3.stop();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', m3.dataDir]);
    mounted = true;
    await m3.start();
    await cluster.init(m1);
    await cluster.join(m2, 'manager', m1);
    await cluster.join(m3, 'manager', m1);
    await cluster.waitForNodes(m1, '3 managers reachable', (list) => list.filter((n) => n.managerStatus?.reachability === 'reachable').length === 3);
  }, 120_000);

  afterAll(async () => {
    await cluster.nodes.find((n) => n === m3)?.stop();
    if (mounted) execFileSync('umount', [m3.dataDir]);
    await cluster.cleanup();
  }, 60_000);

  test('it stops and says so, the swarm goes on, and it recovers by itself once space is freed', async () => {
    // The Raft log must survive the failure: a manager that stopped is restarted from its own log,
    // never wiped and re-joined (that would forget votes and acknowledged entries).
    const raftDir = path.join(m3.dataDir, 'swarm', 'raft');
    const raftDirInode = statSync(raftDir).ino;
    const filler = path.join(m3.dataDir, 'filler');
    const filled = fill(filler);
    console.log(`filled m3's tmpfs with ${filled} bytes`);

    // Writes through m1 keep succeeding (m1 + m2 are a quorum) until m3 fails to persist them.
    let i = 0;
    await waitUntil('m3 to report its failure', async () => {
      expectOk(await m1.cli('node', 'update', '--label-add', `fill${i++}=${'x'.repeat(900)}`, m1.id), 'a write while m3\'s disk is full');
      const status = await m3.status();
      return status.state === 'active' && status.failure !== undefined;
    }, { timeoutMs: 60_000 }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n---- m3 ----\n${m3.logs().slice(-4000)}`);
    });
    const status = await m3.status();
    expect(status).toMatchObject({ state: 'active', failure: { code: 'SWARM_FAILED', recovering: true } });
    const failure = status.state === 'active' ? status.failure! : undefined;
    expect(failure?.message).toContain('is full');

    const statusCli = await m3.cli('swarm', 'status');
    expect(statusCli.code).toBe(1);
    expect(statusCli.stdout).toContain('Swarm: error');
    const ls = await m3.cli('node', 'ls');
    expect(ls.code).toBe(1);
    expect(ls.stderr).toContain('This node\'s swarm manager has stopped: ');
    expect(m3.running).toBe(true);

    // The others carry on.
    expectOk(await m2.cli('node', 'update', '--label-add', 'during=full', m2.id), 'a write through m2 while m3 is down');

    rmSync(filler);
    await waitUntil('m3 to recover by itself', async () => {
      const now = await m3.status();
      return now.state === 'active' && now.failure === undefined;
    }, { timeoutMs: 30_000 }).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\nstatus: ${JSON.stringify(await m3.status())}\n---- m3 ----\n${m3.logs().slice(-6000)}`);
    });
    expect(statSync(raftDir).ino, 'm3\'s Raft directory was wiped and recreated').toBe(raftDirInode);
    expectOk(await m1.cli('node', 'update', '--label-add', 'after=freed', m1.id), 'a write after space was freed');
    await cluster.waitForNodes(m3, 'm3 caught up with every write', (list) => {
      const labels = list.find((n) => n.id === m1.id)?.spec.labels ?? {};
      return labels.after === 'freed' && list.find((n) => n.id === m2.id)?.spec.labels.during === 'full';
    });
  });
});

// Cluster benchmarks on real `skep daemon` processes on loopback (real TLS, real fsync), default timings
// (Raft tick 100 ms, election 10 ticks, heartbeats 2 s). Numbers are printed, never asserted.
//
// 1. RSS of idle daemons: three managers and one worker formed, then left alone; VmRSS from /proc/PID/status.
// 2. Writes/s and p50/p99 latency through the daemons' API: `nodeUpdate` label writes sent to the leader's
//    control socket with 1, 16 and 256 in flight (closed loop; a few connections share the in-flight writes).
// 3. Failover: kill -9 the leader → next successful write, median of ≥5 runs. An attempt starts every 20 ms on
//    the surviving managers' control sockets (alternating) until one succeeds; the old leader is restarted
//    and the group is healthy again before the next run.
//
// Needs the built CLI: node build/scripts/build.mjs --quiet.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { connectControl, type ControlClient } from '../../electron/cli/control-client.js';
import { Cluster, sleep, waitUntil, type SkepNode } from '../cluster/harness.js';
import { percentile } from './raft.js';

export interface ClusterBenchOptions {
  readonly print: (line: string) => void;
  readonly quick: boolean;
}

export interface ClusterThroughput {
  readonly inflight: number;
  readonly writesPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export interface ClusterBenchResult {
  readonly rssKiB: { readonly leader: number; readonly follower: number; readonly worker: number };
  readonly throughput: ClusterThroughput[];
  readonly failoverMs: number[];
  readonly failoverMedianMs: number;
}

function vmRssKiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] ? Number(match[1]) : NaN;
}

/** Every manager agrees on a leader and the leader sees all of them reachable. */
export async function waitHealthy(cluster: Cluster, managers: readonly SkepNode[]): Promise<SkepNode> {
  return waitUntil(
    'a healthy group',
    async () => {
      const leader = await cluster.waitForLeader(managers, 60_000);
      const status = await leader.status();
      return status.state === 'active' && status.reachableManagers === managers.length && status.managers === managers.length ? leader : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

/** Three managers and one worker, every node Ready: the swarm the cluster and memory benches measure. */
export async function formSwarm(cluster: Cluster): Promise<{ managers: SkepNode[]; w1: SkepNode; leader: SkepNode }> {
  const [m1, m2, m3, w1] = (await cluster.add(4)) as [SkepNode, SkepNode, SkepNode, SkepNode];
  const managers = [m1, m2, m3];
  await cluster.init(m1);
  await cluster.join(m2, 'manager', m1);
  await cluster.join(m3, 'manager', m1);
  await cluster.join(w1, 'worker', m1);
  const leader = await waitHealthy(cluster, managers);
  await cluster.waitForNodes(leader, 'every node Ready', (nodes) => nodes.length === 4 && nodes.every((n) => n.status.state === 'ready'), 60_000);
  return { managers, w1, leader };
}

async function throughput(leader: SkepNode, target: string, inflight: number, durationMs: number): Promise<ClusterThroughput> {
  const clients: ControlClient[] = Array.from({ length: Math.min(inflight, 8) }, () => connectControl(leader.control));
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let done = false;
  let completed = 0;
  const loop = async (worker: number): Promise<void> => {
    const client = clients[worker % clients.length] as ControlClient;
    // A bounded key space: the node's label map stays small however long the run.
    const key = `bench${worker % 64}`;
    for (let i = 0; !done; i++) {
      const started = performance.now();
      try {
        await client.nodeUpdate(target, { labelAdd: { [key]: String(i) } });
        if (measuring) {
          latencies.push(performance.now() - started);
          completed++;
        }
      } catch {
        if (measuring) errors++;
      }
    }
  };
  const loops = Array.from({ length: inflight }, (_, worker) => loop(worker));
  await sleep(Math.min(1000, durationMs / 3)); // warm-up
  measuring = true;
  const started = performance.now();
  await sleep(durationMs);
  measuring = false;
  const elapsed = performance.now() - started;
  done = true;
  await Promise.all(loops);
  for (const client of clients) client.close();
  latencies.sort((a, b) => a - b);
  return { inflight, writesPerSec: (completed / elapsed) * 1000, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors };
}

async function failoverOnce(cluster: Cluster, managers: readonly SkepNode[]): Promise<number> {
  const old = await waitHealthy(cluster, managers);
  const survivors = managers.filter((m) => m !== old);
  const target = (survivors[0] as SkepNode).id;
  const killedAt = performance.now();
  await old.kill9();
  let succeededAt: number | undefined;
  const attempts: Promise<void>[] = [];
  for (let i = 0; succeededAt === undefined; i++) {
    if (performance.now() - killedAt > 60_000) throw new Error('no write succeeded within 60 s of the kill');
    const via = survivors[i % survivors.length] as SkepNode;
    attempts.push(
      via.api((api) => api.nodeUpdate(target, { labelAdd: { failover: String(i) } })).then(
        () => void (succeededAt ??= performance.now()),
        () => undefined,
      ),
    );
    await sleep(20);
  }
  await Promise.all(attempts);
  await old.start();
  await waitHealthy(cluster, managers);
  return succeededAt - killedAt;
}

export async function runClusterBench(options: ClusterBenchOptions): Promise<ClusterBenchResult> {
  const { print, quick } = options;
  print(`cluster: cpus=${os.cpus().length} node=${process.version} managers=3 workers=1 tick_ms=100 heartbeat_ms=2000`);
  const cluster = new Cluster({ subnet: 40 });
  try {
    const formed = await formSwarm(cluster);
    const { managers, w1 } = formed;
    let leader = formed.leader;

    // 1. Idle memory.
    await sleep(quick ? 2000 : 5000);
    const follower = managers.find((m) => m !== leader) as SkepNode;
    const rssKiB = { leader: vmRssKiB(leader.pid), follower: vmRssKiB(follower.pid), worker: vmRssKiB(w1.pid) };
    print(`cluster.rss_idle leader_kib=${rssKiB.leader} follower_kib=${rssKiB.follower} worker_kib=${rssKiB.worker}`);

    // 2. Throughput and latency through the leader's control socket.
    const results: ClusterThroughput[] = [];
    for (const inflight of [1, 16, 256]) {
      const t = await throughput(leader, leader.id, inflight, quick ? 1000 : 4000);
      results.push(t);
      print(`cluster.throughput inflight=${t.inflight} writes/s=${t.writesPerSec.toFixed(0)} p50_ms=${t.p50Ms.toFixed(2)} p99_ms=${t.p99Ms.toFixed(2)} errors=${t.errors}`);
    }
    print(`cluster.rss_after_writes leader_kib=${vmRssKiB(leader.pid)}`);

    // 3. Failover.
    const runs = quick ? 3 : 7;
    const failoverMs: number[] = [];
    for (let run = 1; run <= runs; run++) {
      const ms = await failoverOnce(cluster, managers);
      failoverMs.push(ms);
      print(`cluster.failover run=${run} ms=${ms.toFixed(0)}`);
    }
    const sorted = [...failoverMs].sort((a, b) => a - b);
    const failoverMedianMs = percentile(sorted, 50);
    print(`cluster.failover runs=${runs} median_ms=${failoverMedianMs.toFixed(0)} min_ms=${(sorted[0] ?? NaN).toFixed(0)} max_ms=${(sorted[sorted.length - 1] ?? NaN).toFixed(0)}`);
    leader = await waitHealthy(cluster, managers);
    return { rssKiB, throughput: results, failoverMs, failoverMedianMs };
  } finally {
    await cluster.cleanup();
  }
}

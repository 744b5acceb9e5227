// Failover and catch-up on three managers in network-namespace hosts (tests/lab/partitions-lab.ts), default
// timings, measured from outside through the managers' APIs (label writes, as `skep node update --label-add`).
// Root and the built CLI (npm run build) are needed. Numbers are printed, never asserted.
//
// 1. cable pull: the leader's veth set down (no reset) → the first write a survivor acknowledges. Attempts
//    start every 20 ms on the survivors' control sockets, alternating. Healed, and the group healthy again,
//    before the next run.
// 2. follower catch-up: a follower cut off for `cutMs`, writes acknowledged meanwhile; healed → the
//    follower's own API shows the last of them (polled every 20 ms).
// 3. kill -9: the leader killed → the first write a survivor acknowledges; restarted before the next run.
// 4. stability: both cores busy (two busy loops) and the leader's data directory on a FUSE disk whose
//    fsync takes 200 ms longer, a write every 100 ms through the leader, for `stabilitySeconds`; prints the
//    leader changes seen (terms and leader IDs polled every 100 ms on every manager). Needs python3-fusepy.
import os from 'node:os';
import { sleep, waitUntil } from '../cluster/harness.js';
import { PartitionLab, stabilityRun, type LabManager, type StabilityResult } from '../lab/partitions-lab.js';
import { percentile } from './raft.js';

export interface PartitionsBenchOptions {
  readonly print: (line: string) => void;
  readonly quick: boolean;
}

export interface PartitionsBenchResult {
  readonly cablePullMs: number[];
  readonly catchUpMs: number[];
  readonly kill9Ms: number[];
  readonly stability: StabilityResult;
}

function summary(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median_ms=${percentile(sorted, 50).toFixed(0)} min_ms=${(sorted[0] ?? NaN).toFixed(0)} max_ms=${(sorted[sorted.length - 1] ?? NaN).toFixed(0)} runs=${sorted.length}`;
}

async function cablePullOnce(lab: PartitionLab, target: string, run: number): Promise<number> {
  const old = await lab.waitForLeader();
  const survivors = lab.managers.filter((m) => m !== old);
  const cutAt = performance.now();
  lab.cut(old);
  try {
    return (await lab.firstAcknowledgedWrite(survivors, target, `pull${run}_`, cutAt)).ms;
  } finally {
    lab.heal(old);
  }
}

async function catchUpOnce(lab: PartitionLab, target: string, run: number, cutMs: number): Promise<number> {
  const leader = await lab.waitForLeader();
  const follower = lab.managers.find((m) => m !== leader) as LabManager;
  lab.cut(follower);
  let last = '';
  try {
    const until = performance.now() + cutMs;
    for (let i = 0; performance.now() < until; i++) {
      last = `${run}-${i}`;
      await lab.writeLabel(leader, target, 'catchup', last);
      await sleep(200);
    }
  } finally {
    lab.heal(follower);
  }
  const healedAt = performance.now();
  await waitUntil('the follower showing the last write', async () => (await lab.labels(follower, target))['catchup'] === last, { timeoutMs: 60_000, intervalMs: 20 });
  return performance.now() - healedAt;
}

async function kill9Once(lab: PartitionLab, target: string, run: number): Promise<number> {
  const old = await lab.waitForLeader();
  const survivors = lab.managers.filter((m) => m !== old);
  const killedAt = performance.now();
  await lab.kill9(old);
  const { ms } = await lab.firstAcknowledgedWrite(survivors, target, `kill${run}_`, killedAt);
  await lab.start(old);
  return ms;
}

export async function runPartitionsBench(options: PartitionsBenchOptions): Promise<PartitionsBenchResult> {
  const { print, quick } = options;
  const runs = quick ? 3 : Number(process.env['PARTITIONS_RUNS'] ?? 7);
  const cutMs = quick ? 3000 : Number(process.env['PARTITIONS_CUT_MS'] ?? 10_000);
  const stabilitySeconds = quick ? 30 : Number(process.env['PARTITIONS_STABILITY_S'] ?? 120);
  print(`partitions: cpus=${os.cpus().length} load=${os.loadavg().map((l) => l.toFixed(1)).join('/')} node=${process.version} managers=3 in network namespaces, cable=veth down, runs=${runs} follower_cut_ms=${cutMs}`);
  const lab = new PartitionLab();
  const cablePullMs: number[] = [];
  const catchUpMs: number[] = [];
  const kill9Ms: number[] = [];
  try {
    await lab.create(3);
    await lab.formSwarm();
    const target = (await lab.waitForLeader()).id;
    for (let run = 1; run <= runs; run++) {
      cablePullMs.push(await cablePullOnce(lab, target, run));
      print(`partitions.cable_pull run=${run} ms=${(cablePullMs.at(-1) ?? NaN).toFixed(0)}`);
    }
    for (let run = 1; run <= runs; run++) {
      catchUpMs.push(await catchUpOnce(lab, target, run, cutMs));
      print(`partitions.follower_catch_up run=${run} ms=${(catchUpMs.at(-1) ?? NaN).toFixed(0)}`);
    }
    for (let run = 1; run <= runs; run++) {
      kill9Ms.push(await kill9Once(lab, target, run));
      print(`partitions.kill9 run=${run} ms=${(kill9Ms.at(-1) ?? NaN).toFixed(0)}`);
    }
  } catch (error) {
    print(`partitions: failed: ${String(error)}`);
    print(lab.logs());
    throw error;
  } finally {
    await lab.destroy();
  }
  print(`partitions.cable_pull   ${summary(cablePullMs)}`);
  print(`partitions.catch_up     ${summary(catchUpMs)}`);
  print(`partitions.kill9        ${summary(kill9Ms)}`);
  const stability = await stabilityRun(stabilitySeconds, print);
  print(`partitions.stability seconds=${stability.seconds} cores_busy=2 slow_fsync_ms=200 leader_changes=${stability.leaderChanges} term_changes=${stability.termChanges} writes=${stability.writes} failed_writes=${stability.failedWrites}`);
  return { cablePullMs, catchUpMs, kill9Ms, stability };
}

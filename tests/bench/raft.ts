// Raft benchmarks. Numbers are printed, never asserted.
//
// 1. Throughput and commit latency: three RaftNodes in one process, each with its own real WAL directory and
//    fsync, connected by an in-process transport; a closed loop keeps 1, 16 or 256 proposals in flight on the leader.
// 2. Failover in simulated time: three RaftCores on a deterministic simulated network and clock (tick 100 ms);
//    the leader crashes and we measure until a client's next write commits. One run per seed.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RaftCore, seededRandom, type Message, type Ready } from '../../electron/raft/core/index.js';
import { RaftNode, type StateMachine } from '../../electron/raft/node.js';
import type { Entry, NodeId } from '../../electron/raft/types.js';

export interface RaftBenchOptions {
  /** Measured time per in-flight level (after a short warm-up). Default 3000. */
  readonly durationMs?: number;
  readonly inflight?: readonly number[];
  /** Proposal payload size. Default 128. */
  readonly payloadBytes?: number;
  /** Seeds for the simulated failover. Default 200. */
  readonly seeds?: number;
  /** RaftNode's fsyncCommitOnly: also fsync Readies whose only change is the commit index. Default false. */
  readonly fsyncCommitOnly?: boolean;
  readonly print?: (line: string) => void;
}

export interface ThroughputResult {
  readonly inflight: number;
  readonly committedPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly fsyncsPerSec: number;
  readonly entriesPerLeaderFsync: number;
}

export interface FailoverResult {
  readonly seeds: number;
  readonly tickMs: number;
  readonly minMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly maxMs: number;
  readonly failures: number;
}

export interface RaftBenchResult {
  readonly cpus: number;
  readonly throughput: ThroughputResult[];
  readonly failover: FailoverResult;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Counts applied entries; the state is a running checksum so apply does a little real work. */
class CounterMachine implements StateMachine<number> {
  applied = 0;
  sum = 0;
  apply(entry: Entry): number {
    this.applied++;
    this.sum = (this.sum + entry.data.byteLength + entry.index) >>> 0;
    return entry.index;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ applied: this.applied, sum: this.sum }));
  }
  restore(data: Uint8Array): void {
    const s = JSON.parse(new TextDecoder().decode(data)) as { applied: number; sum: number };
    this.applied = s.applied;
    this.sum = s.sum;
  }
}

export async function benchThroughput(options: RaftBenchOptions = {}): Promise<ThroughputResult[]> {
  const durationMs = options.durationMs ?? 3000;
  const payload = new Uint8Array(options.payloadBytes ?? 128).fill(0x61);
  const root = await mkdtemp(path.join(os.tmpdir(), 'skep-raft-bench-'));
  const ids: NodeId[] = ['b1', 'b2', 'b3'];
  const nodes = new Map<NodeId, RaftNode<number>>();
  try {
    for (const id of ids) {
      nodes.set(
        id,
        await RaftNode.start<number>({
          id,
          dataDir: path.join(root, id),
          stateMachine: new CounterMachine(),
          transport: {
            send: (to, msg) =>
              setImmediate(() => {
                nodes.get(to)?.receive(msg);
              }),
          },
          bootstrap: { voters: ids, learners: [] },
          tickMs: 100,
          proposalTimeoutMs: 30_000,
          fsyncCommitOnly: options.fsyncCommitOnly ?? false,
        }),
      );
    }
    const leader = await waitForLeader(nodes);
    const out: ThroughputResult[] = [];
    for (const inflight of options.inflight ?? [1, 16, 256]) {
      // Warm up (JIT, page cache) without measuring.
      await closedLoop(leader, inflight, Math.min(500, durationMs / 4), payload);
      const saves0 = [...nodes.values()].map((n) => n.status().counters);
      const { completed, latencies, elapsedMs } = await closedLoop(leader, inflight, durationMs, payload);
      const saves1 = [...nodes.values()].map((n) => n.status().counters);
      const fsyncs = saves1.reduce((n, c, i) => n + c.saves - saves0[i]!.saves, 0);
      const leaderIdx = ids.indexOf(leader.id);
      const leaderSaves = saves1[leaderIdx]!.saves - saves0[leaderIdx]!.saves;
      const leaderEntries = saves1[leaderIdx]!.entriesSaved - saves0[leaderIdx]!.entriesSaved;
      latencies.sort();
      out.push({
        inflight,
        committedPerSec: (completed * 1000) / elapsedMs,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        fsyncsPerSec: (fsyncs * 1000) / elapsedMs,
        entriesPerLeaderFsync: leaderSaves > 0 ? leaderEntries / leaderSaves : 0,
      });
    }
    return out;
  } finally {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    await rm(root, { recursive: true, force: true });
  }
}

async function waitForLeader(nodes: Map<NodeId, RaftNode<number>>): Promise<RaftNode<number>> {
  for (;;) {
    for (const n of nodes.values()) {
      const s = n.status();
      if (s.role === 'leader' && s.commit >= s.lastIndex) {
        // The leader has committed its own no-op, so proposals flow at once.
        return n;
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Keeps `inflight` proposals outstanding for `durationMs`; each resolution starts the next. */
async function closedLoop(
  leader: RaftNode<number>,
  inflight: number,
  durationMs: number,
  payload: Uint8Array,
): Promise<{ completed: number; latencies: Float64Array; elapsedMs: number }> {
  let latencies = new Float64Array(1 << 16);
  let completed = 0;
  const start = performance.now();
  const end = start + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await leader.propose(payload);
      const dt = performance.now() - t0;
      if (completed === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[completed++] = dt;
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  return { completed, latencies: latencies.slice(0, completed), elapsedMs: performance.now() - start };
}

// ---------------------------------------------------------------------------------------------------------------
// Failover in simulated time: a small deterministic driver around RaftCore (not tests/sim, which is separate).

interface SimEvent {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/** Binary min-heap on (at, seq): deterministic order for equal times. */
class EventQueue {
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  push(at: number, run: () => void): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, run });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export interface FailoverSimOptions {
  readonly tickMs?: number;
  /** One-way network latency range in ms. Default [0.2, 1]. */
  readonly latencyMs?: readonly [number, number];
  /** Simulated fsync time added before a Ready's messages leave when it persisted something. Default 2. */
  readonly fsyncMs?: number;
  /** A client writes every this many ms to whichever live member believes it is leader. Default 10. */
  readonly clientIntervalMs?: number;
}

/** One seeded run: returns simulated ms from the leader's crash until a client write commits, or null. */
export function simulateFailover(seed: number, options: FailoverSimOptions = {}): number | null {
  const tickMs = options.tickMs ?? 100;
  const [latMin, latMax] = options.latencyMs ?? [0.2, 1];
  const fsyncMs = options.fsyncMs ?? 2;
  const clientIntervalMs = options.clientIntervalMs ?? 10;
  const rnd = seededRandom(seed);
  const ids: NodeId[] = ['s1', 's2', 's3'];
  const cores = new Map<NodeId, RaftCore>();
  const crashed = new Set<NodeId>();
  const busyUntil = new Map<NodeId, number>();
  const q = new EventQueue();
  let now = 0;
  let crashAt = -1;
  let crashedCommitMarker = '';
  let result: number | null = null;
  let clientSeq = 0;

  ids.forEach((id, i) =>
    cores.set(
      id,
      new RaftCore({ id, bootstrap: { voters: ids, learners: [] }, random: seededRandom(seed * 7919 + i + 1) }),
    ),
  );

  const dec = new TextDecoder();
  const drive = (id: NodeId): void => {
    const core = cores.get(id)!;
    if (crashed.has(id) || (busyUntil.get(id) ?? 0) > now || !core.hasReady()) return;
    const rd: Ready = core.ready();
    const persisted = rd.entries.length > 0 || rd.hardState !== undefined || rd.snapshot !== undefined;
    const sendAt = now + (persisted ? fsyncMs : 0);
    busyUntil.set(id, sendAt);
    q.push(sendAt, () => {
      if (crashed.has(id)) return;
      for (const m of rd.messages) deliver(m, sendAt);
      if (crashAt >= 0 && result === null) {
        for (const e of rd.committedEntries) {
          if (e.type === 'normal' && e.data.byteLength > 0 && dec.decode(e.data) > crashedCommitMarker) {
            result = sendAt - crashAt;
          }
        }
      }
      core.advance();
      drive(id);
    });
  };
  const deliver = (m: Message, at: number): void => {
    const when = at + latMin + rnd() * (latMax - latMin);
    q.push(when, () => {
      if (crashed.has(m.to)) return;
      cores.get(m.to)!.step(m);
      drive(m.to);
    });
  };
  for (const id of ids) {
    const phase = rnd() * tickMs;
    const tick = (): void => {
      if (crashed.has(id)) return;
      cores.get(id)!.tick();
      drive(id);
      q.push(now + tickMs, tick);
    };
    q.push(phase, tick);
  }
  // The client: writes keep flowing so there is always something to commit. Data sorts by time of writing.
  const client = (): void => {
    for (const id of ids) {
      if (crashed.has(id)) continue;
      const core = cores.get(id)!;
      if (core.status().role !== 'leader') continue;
      try {
        core.propose(new TextEncoder().encode(`w${String(++clientSeq).padStart(9, '0')}`));
        drive(id);
      } catch {
        // No leader to take it (or transferring): try again next time.
      }
      break;
    }
    q.push(now + clientIntervalMs, client);
  };
  q.push(0, client);

  // Crash the leader after a steady period, at a random phase relative to the ticks.
  const crashTime = 3000 + rnd() * tickMs;
  q.push(crashTime, () => {
    const leader = ids.find((id) => !crashed.has(id) && cores.get(id)!.status().role === 'leader');
    if (!leader) return;
    crashed.add(leader);
    crashAt = now;
    // Only writes proposed after the crash count as "the next commit".
    crashedCommitMarker = `w${String(clientSeq).padStart(9, '0')}`;
  });

  const limit = 60_000;
  for (let ev = q.pop(); ev && ev.at <= limit && result === null; ev = q.pop()) {
    now = ev.at;
    ev.run();
  }
  return result;
}

export function benchFailover(options: RaftBenchOptions & FailoverSimOptions = {}): FailoverResult {
  const seeds = options.seeds ?? 200;
  const times: number[] = [];
  let failures = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const t = simulateFailover(seed, options);
    if (t === null) failures++;
    else times.push(t);
  }
  times.sort((a, b) => a - b);
  return {
    seeds,
    tickMs: options.tickMs ?? 100,
    minMs: times[0] ?? NaN,
    p50Ms: percentile(times, 50),
    p90Ms: percentile(times, 90),
    maxMs: times[times.length - 1] ?? NaN,
    failures,
  };
}

export function formatThroughput(label: string, t: ThroughputResult): string {
  return (
    `${label} inflight=${t.inflight} committed/s=${t.committedPerSec.toFixed(0)} ` +
    `p50_ms=${t.p50Ms.toFixed(2)} p99_ms=${t.p99Ms.toFixed(2)} fsyncs/s(all 3)=${t.fsyncsPerSec.toFixed(0)} ` +
    `entries/leader_fsync=${t.entriesPerLeaderFsync.toFixed(1)}`
  );
}

export async function runRaftBench(options: RaftBenchOptions = {}): Promise<RaftBenchResult> {
  const print = options.print ?? (() => {});
  const cpus = os.cpus().length;
  print(`raft: cpus=${cpus} node=${process.version} platform=${process.platform}`);
  const throughput = await benchThroughput(options);
  for (const t of throughput) print(formatThroughput('raft.throughput', t));
  const failover = benchFailover(options);
  print(
    `raft.failover (simulated) seeds=${failover.seeds} tick_ms=${failover.tickMs} leader crash -> next client commit: ` +
      `min_ms=${failover.minMs.toFixed(0)} p50_ms=${failover.p50Ms.toFixed(0)} p90_ms=${failover.p90Ms.toFixed(0)} ` +
      `max_ms=${failover.maxMs.toFixed(0)} no_commit_within_60s=${failover.failures}`,
  );
  return { cpus, throughput, failover };
}

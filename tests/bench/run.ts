// `npm run bench` — runs every benchmark, or some: --only NAME[,NAME] (repeatable), --list, --quick.
// Benchmarks print numbers; they never assert times. To add one, append it to BENCHES.

import os from 'node:os';
import { runClusterBench } from './cluster.js';
import { runMemoryBench } from './memory.js';
import { runPartitionsBench } from './partitions.js';
import { runProvisionBench } from './provision.js';
import { benchThroughput, formatThroughput, runRaftBench } from './raft.js';
import { runSchedulerBench } from './scheduler.js';
import { runServicesBench } from './services.js';

export interface BenchContext {
  readonly print: (line: string) => void;
  /** Shorter runs, for a smoke check. */
  readonly quick: boolean;
}

export interface Bench {
  readonly name: string;
  readonly description: string;
  readonly run: (ctx: BenchContext) => Promise<unknown>;
}

export const BENCHES: readonly Bench[] = [
  {
    name: 'raft',
    description: 'Raft: committed proposals/s and commit latency (3 members, real WAL + fsync); simulated failover time',
    run: (ctx) =>
      runRaftBench({ print: ctx.print, ...(ctx.quick ? { durationMs: 1000, seeds: 40 } : { durationMs: 4000, seeds: 200 }) }),
  },
  {
    name: 'raft-fsync-commit',
    description: 'Raft throughput as above, but also fsyncing Readies that only advance the commit index',
    run: async (ctx) => {
      ctx.print(`raft-fsync-commit: cpus=${os.cpus().length}`);
      const results = await benchThroughput({ fsyncCommitOnly: true, inflight: [1, 256], durationMs: ctx.quick ? 1000 : 3000 });
      for (const t of results) ctx.print(formatThroughput('raft-fsync-commit.throughput', t));
      return results;
    },
  },
  {
    name: 'cluster',
    description: 'Real daemons on loopback (build first): idle RSS; label writes/s and p50/p99 with 1, 16, 256 in flight; failover (kill -9 leader → next write), median of runs',
    run: (ctx) => runClusterBench({ print: ctx.print, quick: ctx.quick }),
  },
  {
    name: 'memory',
    description: 'Idle RSS of leader, followers and worker in a 3-manager swarm (build first), beside the goal; what each group of modules costs',
    run: (ctx) => runMemoryBench({ print: ctx.print, quick: ctx.quick }),
  },
  {
    name: 'partitions',
    description: 'Three managers in network namespaces (root, build first): leader cable pulled / follower cut off and healed / leader kill -9 → next write or catch-up, median of runs; leader changes under load with a slow-fsync manager',
    run: (ctx) => runPartitionsBench({ print: ctx.print, quick: ctx.quick }),
  },
  {
    name: 'scheduler',
    description: 'One scheduling pass for 100 and 1,000 pending tasks over 3 and 50 nodes, and one orchestrator pass creating them (pure, in-process)',
    run: (ctx) => runSchedulerBench({ print: ctx.print, quick: ctx.quick }),
  },
  {
    name: 'services',
    description: 'Services on 3 real Docker Engines in namespace hosts (root, build first): create 30 → RUNNING, scale 30 → 100, rolling update of 30 (parallelism 5), Skep beside Docker Swarm on the same engines; each Skep daemon\'s RSS with 100 tasks',
    run: (ctx) => runServicesBench({ print: ctx.print }),
  },
  {
    name: 'provision',
    description: 'Adding a machine over SSH (root, build first): a namespace host with real sshd, add → node Ready, each phase\'s share; a rerun that changes nothing',
    run: (ctx) => runProvisionBench({ print: ctx.print }),
  },
];

function parseArgs(argv: readonly string[]): { only: string[]; list: boolean; quick: boolean } {
  const only: string[] = [];
  let list = false;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--only') only.push(...(argv[++i] ?? '').split(',').filter(Boolean));
    else if (a.startsWith('--only=')) only.push(...a.slice('--only='.length).split(',').filter(Boolean));
    else if (a === '--list') list = true;
    else if (a === '--quick') quick = true;
    else throw new Error(`unknown argument ${a} (use --only NAME, --list, --quick)`);
  }
  return { only, list, quick };
}

async function main(): Promise<void> {
  const { only, list, quick } = parseArgs(process.argv.slice(2));
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  if (list) {
    for (const b of BENCHES) print(`${b.name}\t${b.description}`);
    return;
  }
  const unknown = only.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) throw new Error(`no such bench: ${unknown.join(', ')} (have: ${BENCHES.map((b) => b.name).join(', ')})`);
  for (const b of BENCHES) {
    if (only.length > 0 && !only.includes(b.name)) continue;
    print(`== ${b.name}: ${b.description}`);
    await b.run({ print, quick });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});

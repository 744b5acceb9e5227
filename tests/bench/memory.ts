// Memory of idle daemons (issue 12): real `skep daemon` processes on loopback — three managers and one
// worker, formed and then left alone — and VmRSS from /proc/PID/status, beside the goal for each role.
// Numbers are printed, never asserted.
//
// 1. Idle RSS: after the swarm is formed and every node Ready, the daemons settle (GC, JIT) and then
//    are sampled every few seconds for a while; the median per role is printed with the goal, and the
//    first and last samples show whether anything grows while idle (SKEP_BENCH_MEMORY_WATCH_S=300 for
//    a five-minute leak watch). Twice: with Node's flags as Skep installs daemons (provision's
//    DAEMON_NODE_FLAGS, what the goal is about) and with plain `node`.
// 2. What each part costs: each group of modules bundled on its own with the CLI bundle's options
//    (build/scripts/bundle-options.mjs) and imported by a fresh `node`, which keeps every export
//    reachable; RSS and V8 heap after a full GC, minus an empty bundle's. Parts share dependencies
//    (zod, node:tls), so the rows overlap and do not add up.
//
// Needs the built CLI: node build/scripts/build.mjs --quiet.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { cliBundleOptions, keepAscii } from '../../build/scripts/bundle-options.mjs';
import { DAEMON_NODE_FLAGS } from '../../electron/provision/layout.js';
import { Cluster, sleep, type SkepNode } from '../cluster/harness.js';
import { formSwarm } from './cluster.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MIB = 1024;

/** Issue 12's goals, in KiB. */
export const GOAL_KIB = { manager: 80 * MIB, worker: 60 * MIB } as const;

export interface MemoryBenchOptions {
  readonly print: (line: string) => void;
  readonly quick: boolean;
}

export interface RoleRss {
  readonly role: 'leader' | 'follower' | 'worker';
  readonly name: string;
  readonly medianKiB: number;
  readonly firstKiB: number;
  readonly lastKiB: number;
  /** One sample a minute (the first, then every 60 s): a leak climbs, a settling heap levels off. */
  readonly perMinuteKiB: number[];
  readonly goalKiB: number;
}

export interface ModuleCost {
  readonly name: string;
  readonly rssKiB: number;
  readonly heapKiB: number;
}

function vmRssKiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] ? Number(match[1]) : NaN;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const mib = (kib: number): string => (kib / MIB).toFixed(1);

export async function idleRss(options: MemoryBenchOptions, nodeFlags: readonly string[]): Promise<RoleRss[]> {
  const { print, quick } = options;
  const settleMs = quick ? 5_000 : 20_000;
  const watchMs = Number(process.env['SKEP_BENCH_MEMORY_WATCH_S'] ?? (quick ? 10 : 30)) * 1000;
  const everyMs = quick ? 1000 : 5000;
  print(`memory: cpus=${os.cpus().length} node=${process.version} node_flags="${nodeFlags.join(' ')}" managers=3 workers=1 settle_s=${settleMs / 1000} watch_s=${watchMs / 1000}`);
  // Port 2487 on subnet 47: apart from the memory cluster test (2377) and every other file's subnet.
  const cluster = new Cluster({ subnet: 47, port: 2487, nodeFlags });
  try {
    const { managers, w1, leader } = await formSwarm(cluster);
    await sleep(settleMs);
    const roles: { role: RoleRss['role']; node: SkepNode }[] = [
      { role: 'leader', node: leader },
      ...managers.filter((m) => m !== leader).map((node) => ({ role: 'follower' as const, node })),
      { role: 'worker', node: w1 },
    ];
    const samples = roles.map(() => [] as number[]);
    for (const started = Date.now(); ; ) {
      roles.forEach(({ node }, i) => samples[i]?.push(vmRssKiB(node.pid)));
      if (Date.now() - started >= watchMs) break;
      await sleep(everyMs);
    }
    const current = await leader.status();
    if (current.state !== 'active' || current.leaderId !== leader.id) print('memory: note: the leader changed while idle');
    return roles.map(({ role, node }, i) => {
      const s = samples[i] ?? [];
      return {
        role,
        name: node.name,
        medianKiB: median(s),
        firstKiB: s[0] ?? NaN,
        lastKiB: s[s.length - 1] ?? NaN,
        perMinuteKiB: s.filter((_, n) => (n * everyMs) % 60_000 === 0),
        goalKiB: role === 'worker' ? GOAL_KIB.worker : GOAL_KIB.manager,
      };
    });
  } finally {
    await cluster.cleanup();
  }
}

/** Groups of modules as the daemon loads them; each is bundled alone and measured in a fresh process. */
const MODULE_GROUPS: readonly { name: string; imports: readonly string[] }[] = [
  { name: 'node:tls+net+crypto', imports: ['node:tls', 'node:net', 'node:crypto'] },
  { name: 'zod', imports: ['zod'] },
  { name: 'commander', imports: ['commander'] },
  { name: 'net (TLS transport)', imports: ['electron/net/index.ts'] },
  { name: 'protocol (zod schemas of cluster methods)', imports: ['electron/protocol/index.ts'] },
  { name: 'shared/api-schemas (control API zod)', imports: ['shared/api-schemas.ts'] },
  { name: 'control socket server', imports: ['electron/server/control-socket.ts'] },
  { name: '@peculiar/x509 + reflect-metadata', imports: ['electron/swarm/ca/x509.ts'] },
  { name: 'swarm/ca (pki, tokens, join)', imports: ['electron/swarm/ca/index.ts'] },
  { name: 'raft (core + storage)', imports: ['electron/raft/node.ts'] },
  { name: 'swarm manager (raft, store, dispatcher, orchestrator, controlapi)', imports: ['electron/swarm/manager.ts'] },
  { name: 'dockerode', imports: ['dockerode'] },
  { name: 'agent executor (dockerode)', imports: ['electron/agent/exec/docker/executor.ts'] },
  { name: 'agent session + worker', imports: ['electron/agent/session.ts', 'electron/agent/worker.ts'] },
  { name: 'ssh2', imports: ['ssh2'] },
  { name: 'provision (ssh2)', imports: ['electron/provision/service.ts'] },
  { name: '`skep daemon` at start-up (daemon-command.ts; on-demand parts not run)', imports: ['electron/cli/daemon-command.ts'] },
  { name: '`skep daemon` with every on-demand part run', imports: ['electron/cli/daemon-command.ts', 'electron/swarm/manager.ts', 'electron/provision/service.ts', 'electron/swarm/ca/x509.ts'] },
];

/** RSS and heap after a full GC in a fresh `node --expose-gc` that imported `bundle`. */
function measureBundle(bundle: string): { rssKiB: number; heapKiB: number } {
  const probe = `
    const { readFileSync } = await import('node:fs');
    await import(${JSON.stringify(bundle)});
    for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); }
    const rss = Number(/^VmRSS:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    process.stdout.write(JSON.stringify({ rssKiB: rss, heapKiB: Math.round(process.memoryUsage().heapUsed / 1024) }));
    process.exit(0);
  `;
  const output = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(output) as { rssKiB: number; heapKiB: number };
}

export async function moduleCosts(options: MemoryBenchOptions): Promise<ModuleCost[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skep-memory-bench-'));
  try {
    const bundleOf = async (name: string, imports: readonly string[]): Promise<string> => {
      const entry = path.join(dir, `${name}.entry.mjs`);
      // Keep every namespace reachable, so nothing is tree-shaken away or collected.
      const specifiers = imports.map((i) => (i.includes('/') && !i.startsWith('node:') && !i.startsWith('@') ? path.join(ROOT, i) : i));
      writeFileSync(entry, specifiers.map((s, i) => `import * as m${i} from ${JSON.stringify(s)};`).join('\n') + `\nglobalThis.__kept = [${specifiers.map((_, i) => `m${i}`).join(', ')}];\n`);
      const outfile = path.join(dir, `${name}.mjs`);
      // As build.mjs builds the CLI (stubs for dockerode's unused parts, no comments, ASCII).
      await build({ ...cliBundleOptions({ root: ROOT, outfile, version: 'bench', quiet: true }), entryPoints: [entry], sourcemap: false, nodePaths: [path.join(ROOT, 'node_modules')] });
      await keepAscii(outfile);
      return outfile;
    };
    const runs = 3;
    const measure = (bundle: string): { rssKiB: number; heapKiB: number } => {
      const all = Array.from({ length: options.quick ? 1 : runs }, () => measureBundle(bundle));
      return { rssKiB: median(all.map((m) => m.rssKiB)), heapKiB: median(all.map((m) => m.heapKiB)) };
    };
    const base = measure(await bundleOf('empty', []));
    options.print(`memory.module_base rss_kib=${base.rssKiB} heap_kib=${base.heapKiB} (an empty bundle in node ${process.version})`);
    const costs: ModuleCost[] = [];
    for (const [i, group] of MODULE_GROUPS.entries()) {
      const m = measure(await bundleOf(`g${i}`, group.imports));
      costs.push({ name: group.name, rssKiB: m.rssKiB - base.rssKiB, heapKiB: m.heapKiB - base.heapKiB });
    }
    return costs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runMemoryBench(options: MemoryBenchOptions): Promise<{ roles: RoleRss[]; modules: ModuleCost[] }> {
  const { print } = options;
  let roles: RoleRss[] = [];
  for (const [setup, flags] of [['installed', DAEMON_NODE_FLAGS], ['plain_node', []]] as const) {
    const measured = await idleRss(options, flags);
    if (setup === 'installed') roles = measured;
    for (const r of measured) {
      const verdict = r.medianKiB <= r.goalKiB ? 'within goal' : 'OVER goal';
      print(
        `memory.rss_idle setup=${setup} role=${r.role} node=${r.name} median_mib=${mib(r.medianKiB)} goal_mib=${mib(r.goalKiB)} ${verdict}` +
          ` first_mib=${mib(r.firstKiB)} last_mib=${mib(r.lastKiB)} per_minute_mib=${r.perMinuteKiB.map(mib).join(',')}`,
      );
    }
  }
  const modules = await moduleCosts(options);
  for (const m of modules) print(`memory.module_cost rss_mib=${mib(m.rssKiB).padStart(5)} heap_mib=${mib(m.heapKiB).padStart(5)} ${m.name}`);
  return { roles, modules };
}

// Real `skep daemon` processes on loopback, driven through the real CLI (and, for polling, the control
// socket directly). Every process is started and stopped by its own pid; every directory is removed.
//
// Each test file gets its own loopback subnet (127.0.N.x) so files never collide on addresses.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SkepClient } from '../../shared/api.js';
import type { SwarmNode, SwarmStatus } from '../../shared/types.js';
import { connectControl } from '../../electron/cli/control-client.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI (`node build/scripts/build.mjs --quiet` makes it). */
export const BUILT_CLI = path.join(ROOT, 'out/cli/skep.mjs');

let cliPath = BUILT_CLI;

/**
 * Copies the built CLI into `dir` and runs that copy from then on, so a rebuild of out/ while a test
 * file runs can't pull the file out from under its daemons. node_modules is linked next to it.
 */
export function snapshotCli(dir: string): string {
  const deadline = Date.now() + 30_000;
  for (;;) {
    // A build in progress may have removed or half-written the file: wait until its size is stable.
    const size = existsSync(BUILT_CLI) ? statSync(BUILT_CLI).size : -1;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    if (size > 0 && existsSync(BUILT_CLI) && statSync(BUILT_CLI).size === size) break;
    if (Date.now() > deadline) throw new Error(`${BUILT_CLI} is missing: run node build/scripts/build.mjs --quiet`);
  }
  const copy = path.join(dir, 'skep.mjs');
  copyFileSync(BUILT_CLI, copy);
  if (!existsSync(path.join(dir, 'node_modules'))) symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  cliPath = copy;
  return copy;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly stdin?: string;
  readonly timeoutMs?: number;
}

/** Starts `skep -H CONTROL ARGS…` and leaves it running (`service logs -f`): the caller reads and ends it. */
export function startCli(control: string, args: readonly string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [cliPath, '-H', control, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs `skep -H CONTROL ARGS…` and collects its exit code and output. */
export function runCli(control: string, args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, '-H', control, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`skep ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/**
 * Polls `probe` until it returns something other than undefined/false; errors count as "not yet".
 * Times out with the last value or error seen, never by asserting a duration.
 */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(intervalMs);
  }
}

/** One call on a fresh control connection (a cached connection would outlive a restarted daemon). */
export async function withApi<T>(control: string, call: (api: SkepClient) => Promise<T>): Promise<T> {
  const client = connectControl(control);
  try {
    return await call(client);
  } finally {
    client.close();
  }
}

export interface DaemonOptions {
  /** Node's own flags before the CLI (e.g. provision's DAEMON_NODE_FLAGS, as installed daemons run). */
  readonly nodeFlags?: readonly string[];
  readonly heartbeatMs?: number;
  readonly tickMs?: number;
  readonly debug?: boolean;
}

/** One node: its addresses, data directory, control socket and (while running) its process. */
export class SkepNode {
  readonly addr: string;
  readonly dataDir: string;
  readonly control: string;
  /** Set after init/join (the swarm's node ID). */
  id = '';
  paused = false;
  private process: Started | undefined;
  /** Output of earlier runs of this node (before restarts). */
  private previousLogs = '';

  constructor(
    readonly name: string,
    readonly ip: string,
    readonly port: number,
    root: string,
    private readonly daemonOptions: DaemonOptions,
  ) {
    this.addr = `${ip}:${port}`;
    this.dataDir = path.join(root, name);
    this.control = `unix://${path.join(root, `${name}.sock`)}`;
  }

  get pid(): number | undefined {
    return this.process?.child.pid;
  }

  /** Running and not stopped with SIGSTOP. */
  get responsive(): boolean {
    return this.running && !this.paused;
  }

  get running(): boolean {
    const child = this.process?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Everything this node's daemon printed, across restarts. */
  logs(): string {
    return this.previousLogs + (this.process?.output() ?? '');
  }

  /** Starts (or restarts, from the same data directory) the daemon; resolves once its control socket is up. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    if (this.process) this.previousLogs += this.process.output() + `\n---- ${this.name} restarted ----\n`;
    const args = [...(this.daemonOptions.nodeFlags ?? []), cliPath, 'daemon', '--data-dir', this.dataDir, '--control', this.control];
    if (this.daemonOptions.tickMs !== undefined) args.push('--tick-ms', String(this.daemonOptions.tickMs));
    if (this.daemonOptions.heartbeatMs !== undefined) args.push('--heartbeat-ms', String(this.daemonOptions.heartbeatMs));
    if (this.daemonOptions.debug) args.push('-D');
    this.process = startProcess(process.execPath, args);
    await waitForOutput(this.process, /skep daemon is running/, 30_000);
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process?.child;
    if (!child || !this.running) throw new Error(`${this.name} is not running`);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.paused = false;
  }

  /** kill -9: no chance to flush or say goodbye. */
  kill9(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** A clean stop (SIGTERM; SIGKILL after 5 s). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.resume();
    await this.process?.stop('SIGTERM');
  }

  pause(): void {
    if (this.pid === undefined || !this.running) throw new Error(`${this.name} is not running`);
    process.kill(this.pid, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (this.pid !== undefined && this.running) process.kill(this.pid, 'SIGCONT');
    this.paused = false;
  }

  cli(...args: string[]): Promise<CliResult> {
    return runCli(this.control, args);
  }

  cliWith(options: CliOptions, ...args: string[]): Promise<CliResult> {
    return runCli(this.control, args, options);
  }

  api<T>(call: (api: SkepClient) => Promise<T>): Promise<T> {
    return withApi(this.control, call);
  }

  status(): Promise<SwarmStatus> {
    return this.api((api) => api.getSwarmStatus());
  }

  nodes(): Promise<SwarmNode[]> {
    return this.api((api) => api.nodeList());
  }
}

/** Throws with the command's output unless it exited 0. */
export function expectOk(result: CliResult, what: string): CliResult {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

/** What the CLI prints for a daemon's refusal. */
export function daemonErrorLine(message: string): string {
  return `Error response from daemon: ${message}\n`;
}

export interface ClusterOptions extends DaemonOptions {
  /** The third octet of this file's loopback subnet, 127.0.SUBNET.x (distinct per test file). */
  readonly subnet: number;
  readonly port?: number;
}

export class Cluster {
  readonly root: string;
  readonly nodes: SkepNode[] = [];

  constructor(private readonly options: ClusterOptions) {
    this.root = mkdtempSync(path.join(os.tmpdir(), 'skep-cluster-'));
    snapshotCli(this.root);
  }

  /** Starts `count` more daemons (not yet in a swarm), on 127.0.SUBNET.(n+1). */
  async add(count: number, options: DaemonOptions = {}): Promise<SkepNode[]> {
    const added: SkepNode[] = [];
    for (let i = 0; i < count; i++) {
      const n = this.nodes.length + 1;
      const node = new SkepNode(`n${n}`, `127.0.${this.options.subnet}.${n}`, this.options.port ?? 2377, this.root, { ...this.options, ...options });
      this.nodes.push(node);
      added.push(node);
    }
    await Promise.all(added.map((node) => node.start()));
    return added;
  }

  async init(node: SkepNode): Promise<CliResult> {
    const result = expectOk(await node.cli('swarm', 'init', '--listen-addr', node.addr), `swarm init on ${node.name}`);
    const id = /current node \(([0-9a-z]+)\)/.exec(result.stdout)?.[1];
    if (!id) throw new Error(`no node ID in: ${result.stdout}`);
    node.id = id;
    return result;
  }

  async token(via: SkepNode, role: 'worker' | 'manager'): Promise<string> {
    return expectOk(await via.cli('swarm', 'join-token', '-q', role), `join-token ${role}`).stdout.trim();
  }

  /** `swarm join` with the token on stdin (kept out of argv), then learns the node's ID. */
  async join(node: SkepNode, role: 'worker' | 'manager', via: SkepNode): Promise<void> {
    const token = await this.token(via, role);
    expectOk(await this.joinWith(node, token, via), `swarm join ${role} on ${node.name}`);
    const status = await node.status();
    if (status.state !== 'active') throw new Error(`${node.name} joined but is inactive`);
    node.id = status.nodeId;
  }

  joinWith(node: SkepNode, token: string, via: SkepNode): Promise<CliResult> {
    return node.cliWith({ stdin: token }, 'swarm', 'join', '--token-stdin', '--listen-addr', node.addr, via.addr);
  }

  byId(id: string | null | undefined): SkepNode | undefined {
    return this.nodes.find((n) => n.id !== '' && n.id === id);
  }

  /**
   * Waits until a running manager among `managers` says it is the leader and every other running one
   * agrees; returns it.
   */
  async waitForLeader(managers: readonly SkepNode[], timeoutMs = 30_000): Promise<SkepNode> {
    return waitUntil(
      'a leader that every running manager agrees on',
      async () => {
        const running = managers.filter((m) => m.responsive);
        const statuses = await Promise.all(running.map((m) => m.status()));
        const leaders = new Set(statuses.map((s) => (s.state === 'active' ? s.leaderId : null)));
        if (leaders.size !== 1) return undefined;
        const leader = this.byId([...leaders][0]);
        if (!leader || !running.includes(leader)) return undefined;
        const own = statuses[running.indexOf(leader)];
        return own?.state === 'active' && own.nodeId === leader.id && own.raft?.leaderId === leader.id ? leader : undefined;
      },
      { timeoutMs },
    );
  }

  /** The manager view of `node ls` (through the API) once `check` holds for it. */
  async waitForNodes(via: SkepNode, what: string, check: (nodes: SwarmNode[]) => boolean, timeoutMs = 30_000): Promise<SwarmNode[]> {
    return waitUntil(what, async () => {
      const nodes = await via.nodes();
      return check(nodes) ? nodes : undefined;
    }, { timeoutMs });
  }

  /** Stops every process (SIGCONT first, in case one is stopped) and removes every directory. */
  async cleanup(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop().catch(() => undefined)));
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The logs of every node, for a failing test's message. */
  logs(): string {
    return this.nodes.map((n) => `==== ${n.name} (${n.addr}, ${n.id}) ====\n${n.logs()}`).join('\n');
  }
}

export function managerCounts(nodes: readonly SwarmNode[]): { leaders: number; reachable: number; unreachable: number; ready: number } {
  return {
    leaders: nodes.filter((n) => n.managerStatus?.leader === true).length,
    reachable: nodes.filter((n) => n.managerStatus && !n.managerStatus.leader && n.managerStatus.reachability === 'reachable').length,
    unreachable: nodes.filter((n) => n.managerStatus?.reachability === 'unreachable').length,
    ready: nodes.filter((n) => n.status.state === 'ready').length,
  };
}

/** A label write through the CLI: `node update --label-add key=value NODE`. */
export function labelAdd(via: SkepNode, node: string, key: string, value: string): Promise<CliResult> {
  return via.cli('node', 'update', '--label-add', `${key}=${value}`, node);
}

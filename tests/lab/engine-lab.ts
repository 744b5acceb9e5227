// A lab of Docker Engine hosts: each host is a network namespace on a bridge of the lab's own, with
// its own dockerd (own data/exec roots, socket, pid file and cgroup parent; its iptables rules live
// in the host's namespace and go with it) holding a local busybox image, and a `skep daemon` in the
// same namespace with its own hostname (a UTS namespace) and DOCKER_HOST set to that engine.
// Used by services.test.ts and the services bench; the provisioning lab (lab.ts) is separate.
// Everything is named with a per-run prefix and removed by those names and pids.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { runCli, snapshotCli, waitUntil, withApi, type CliOptions, type CliResult } from '../cluster/harness.js';
import { importBusyboxImage } from '../support/busybox-image.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

export const LAB_IMAGE = 'skep-lab/busybox:1';

function run(command: string, args: readonly string[]): string {
  return execFileSync(command, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(command: string, args: readonly string[]): void {
  try {
    run(command, args);
  } catch {
    // Teardown goes on: one missing piece must not leave the rest behind.
  }
}

function freeSubnet(): string {
  const used = run('ip', ['-4', '-o', 'addr']);
  for (let attempt = 0; attempt < 200; attempt++) {
    const third = ((process.pid + attempt) % 200) + 20;
    const subnet = `10.214.${third}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.214.X.0/24 subnet for the engine lab');
}

function kill(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

function pids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

export interface EngineLabOptions {
  /** The daemons' heartbeat period (default: the daemon's own, 2 s). */
  readonly heartbeatMs?: number;
}

export class EngineHost {
  readonly netns: string;
  readonly hostname: string;
  readonly dir: string;
  readonly socket: string;
  readonly control: string;
  readonly docker: Docker;
  /** The swarm's node ID, once the daemon is in the swarm. */
  nodeId = '';
  private engine: Started | undefined;
  private daemon: Started | undefined;
  private readonly daemonLog: string;

  constructor(
    private readonly lab: EngineLab,
    readonly name: string,
    readonly address: string,
  ) {
    this.netns = `${lab.prefix}-${name}`;
    this.hostname = `${lab.prefix}-${name}`;
    this.dir = path.join(lab.dir, name);
    this.socket = path.join(this.dir, 'docker.sock');
    this.control = `unix://${path.join(this.dir, 'skep.sock')}`;
    this.docker = new Docker({ socketPath: this.socket });
    this.daemonLog = path.join(this.dir, 'daemon.log');
  }

  get addr(): string {
    return `${this.address}:2377`;
  }

  get daemonPid(): number | undefined {
    return this.daemon?.child.pid;
  }

  get enginePid(): number | undefined {
    return this.engine?.child.pid;
  }

  /** Starts (or restarts, on the same roots) this host's dockerd inside its network namespace. */
  async startEngine(): Promise<void> {
    rmSync(this.socket, { force: true });
    this.engine = startProcess('nsenter', [
      `--net=/run/netns/${this.netns}`,
      'dockerd',
      '--data-root', path.join(this.dir, 'engine-data'),
      '--exec-root', path.join(this.dir, 'engine-exec'),
      '--pidfile', path.join(this.dir, 'docker.pid'),
      '--host', `unix://${this.socket}`,
      '--cgroup-parent', `/${this.netns}`,
    ], {
      // Docker Swarm's tasks use the local image instead of asking a registry (none is reachable here).
      env: { ...process.env, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' },
    });
    const started = this.engine;
    await waitUntil(`dockerd on ${this.name}`, async () => {
      if (started.child.exitCode !== null) throw new Error(`dockerd on ${this.name} exited:\n${started.output()}`);
      if (!existsSync(this.socket)) return false;
      await this.docker.ping();
      return true;
    }, { timeoutMs: 90_000, intervalMs: 250 });
  }

  /** The engine dies at once (SIGKILL to dockerd and its containerd); containers live on in their shims. */
  killEngine(): void {
    const dockerd = this.engine?.child.pid;
    if (dockerd === undefined) return;
    const children = pids().filter((pid) => readProc(pid, 'stat').split(') ')[1]?.split(' ')[1] === String(dockerd));
    kill(dockerd, 'SIGKILL');
    for (const child of children) kill(child, 'SIGKILL');
  }

  async stopEngine(): Promise<void> {
    await this.engine?.stop('SIGTERM');
  }

  /** Starts (or restarts, on the same data directory) this host's `skep daemon`. */
  async startDaemon(): Promise<void> {
    mkdirSync(path.join(this.dir, 'skep'), { recursive: true, mode: 0o700 });
    const args = [
      `--net=/run/netns/${this.netns}`,
      'unshare', '--uts', '--',
      'sh', '-c', 'hostname "$0" && exec "$@"', this.hostname,
      process.execPath, this.lab.cli, 'daemon', '--data-dir', path.join(this.dir, 'skep', 'data'), '--control', this.control,
      ...(this.lab.options.heartbeatMs !== undefined ? ['--heartbeat-ms', String(this.lab.options.heartbeatMs)] : []),
    ];
    appendFileSync(this.daemonLog, `---- start ${new Date().toISOString()} ----\n`);
    const daemon = startProcess('nsenter', args, { env: { ...process.env, DOCKER_HOST: `unix://${this.socket}` } });
    daemon.child.stdout?.on('data', (chunk: Buffer) => appendFileSync(this.daemonLog, chunk));
    daemon.child.stderr?.on('data', (chunk: Buffer) => appendFileSync(this.daemonLog, chunk));
    this.daemon = daemon;
    await waitForOutput(daemon, /skep daemon is running/, 60_000);
  }

  /** kill -9 of the daemon: no goodbye to the managers. */
  async killDaemon(): Promise<void> {
    const child = this.daemon?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  async stopDaemon(): Promise<void> {
    await this.daemon?.stop('SIGTERM');
  }

  get daemonRunning(): boolean {
    const child = this.daemon?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  logs(): string {
    return existsSync(this.daemonLog) ? readFileSync(this.daemonLog, 'utf8') : '';
  }

  cli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
    return runCli(this.control, args, { timeoutMs: 120_000, ...options });
  }

  /** VmRSS of the daemon, in KiB. */
  daemonRssKiB(): number {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readProc(this.daemonPid ?? -1, 'status'));
    return match?.[1] ? Number(match[1]) : NaN;
  }
}

export class EngineLab {
  readonly prefix = `sks${process.pid}`;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'skep-svclab-'));
  readonly hosts: EngineHost[] = [];
  readonly cli: string;
  private readonly bridge = `${this.prefix}br`;
  private readonly created = { bridge: false, forward: false, netns: [] as string[] };

  constructor(readonly options: EngineLabOptions = {}) {
    this.cli = snapshotCli(this.dir);
  }

  host(name: string): EngineHost {
    const found = this.hosts.find((h) => h.name === name);
    if (!found) throw new Error(`no lab host ${name}`);
    return found;
  }

  byNodeId(id: string): EngineHost | undefined {
    return this.hosts.find((h) => h.nodeId === id);
  }

  /** Network, engines (started together) and the image on each; no daemons yet. */
  async create(names: readonly string[]): Promise<void> {
    const subnet = freeSubnet();
    run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    this.created.bridge = true;
    run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', this.bridge]);
    run('ip', ['link', 'set', this.bridge, 'up']);
    run('iptables', ['-I', 'FORWARD', '-i', this.bridge, '-o', this.bridge, '-j', 'ACCEPT']);
    this.created.forward = true;
    for (const [i, name] of names.entries()) {
      const host = new EngineHost(this, name, `${subnet}.${10 + i}`);
      mkdirSync(host.dir, { recursive: true, mode: 0o755 });
      const outside = `${this.prefix}h${i}`;
      run('ip', ['netns', 'add', host.netns]);
      this.created.netns.push(host.netns);
      run('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', `${this.prefix}p${i}`]);
      run('ip', ['link', 'set', `${this.prefix}p${i}`, 'netns', host.netns]);
      run('ip', ['link', 'set', outside, 'master', this.bridge, 'up']);
      run('ip', ['-n', host.netns, 'addr', 'add', `${host.address}/24`, 'dev', `${this.prefix}p${i}`]);
      run('ip', ['-n', host.netns, 'link', 'set', `${this.prefix}p${i}`, 'up']);
      run('ip', ['-n', host.netns, 'link', 'set', 'lo', 'up']);
      this.hosts.push(host);
    }
    await Promise.all(this.hosts.map((h) => h.startEngine()));
    for (const h of this.hosts) await importBusyboxImage(h.docker, h.dir, LAB_IMAGE);
  }

  /** `swarm init` on the first host, the others join with the role given; every node Ready. */
  async formSwarm(roles: Readonly<Record<string, 'manager' | 'worker'>>): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.startDaemon()));
    const [first, ...rest] = this.hosts;
    if (!first) throw new Error('no hosts');
    const init = await first.cli(['swarm', 'init', '--listen-addr', first.addr, '--advertise-addr', first.addr]);
    if (init.code !== 0) throw new Error(`swarm init failed: ${init.stderr}`);
    for (const host of rest) {
      const role = roles[host.name] ?? 'worker';
      const token = (await first.cli(['swarm', 'join-token', '-q', role])).stdout.trim();
      const joined = await host.cli(['swarm', 'join', '--token-stdin', '--listen-addr', host.addr, '--advertise-addr', host.addr, first.addr], { stdin: token });
      if (joined.code !== 0) throw new Error(`swarm join on ${host.name} failed: ${joined.stderr}`);
    }
    for (const host of this.hosts) {
      host.nodeId = await waitUntil(`${host.name}'s node ID`, async () => {
        const status = await withApi(host.control, (api) => api.getSwarmStatus());
        return status.state === 'active' && status.nodeId ? status.nodeId : undefined;
      });
    }
  }

  /** Removes everything the lab made, each piece by its own name or pid, whatever failed before. */
  async destroy(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.stopDaemon().catch(() => undefined)));
    await Promise.all(
      this.hosts.map(async (h) => {
        try {
          // The engine is the lab's own: everything on it goes, by ID.
          for (const c of await h.docker.listContainers({ all: true })) await h.docker.getContainer(c.Id).remove({ force: true, v: true });
        } catch {
          // an engine that is down: its processes are killed below
        }
        await h.stopEngine().catch(() => undefined);
      }),
    );
    // Whatever still runs of the lab's: engines, containerds and shims (their command lines name
    // the lab's folder), and containers (their cgroups name the lab's prefix).
    for (const pid of pids()) {
      if (pid === process.pid) continue;
      if (readProc(pid, 'cmdline').includes(this.dir) || readProc(pid, 'cgroup').includes(`/${this.prefix}-`)) kill(pid, 'SIGKILL');
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4] ?? '').filter((m) => m.startsWith(this.dir));
    for (const mount of mounts.sort((a, b) => b.length - a.length)) tryRun('umount', ['-l', mount]);
    for (const netns of this.created.netns) tryRun('ip', ['netns', 'del', netns]);
    if (this.created.bridge) tryRun('ip', ['link', 'del', this.bridge]);
    if (this.created.forward) tryRun('iptables', ['-D', 'FORWARD', '-i', this.bridge, '-o', this.bridge, '-j', 'ACCEPT']);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

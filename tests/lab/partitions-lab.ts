// Managers in network-namespace hosts on a bridge of their own, whose cables can be pulled: the veth's
// bridge end set down (no reset, no FIN: packets just stop), or every packet to and from the host dropped
// by iptables on the bridge. Used by tests/lab/partitions.test.ts and tests/bench/partitions.ts.
// Everything is named with a per-lab prefix (`skf<pid><n>`) and removed by those names and by pid.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SkepClient } from '../../shared/api.js';
import type { SwarmNode, SwarmStatus } from '../../shared/types.js';
import { runCli, sleep, snapshotCli, waitUntil, withApi, type CliResult } from '../cluster/harness.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

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

/** A free 10.214.X.0/24 (the provisioning lab takes 10.213.X). */
function freeSubnet(): string {
  const used = run('ip', ['-4', '-o', 'addr']);
  for (let attempt = 0; attempt < 200; attempt++) {
    const subnet = `10.214.${(process.pid + attempt) % 200 + 20}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.214.X.0/24 subnet for the partitions lab');
}

/**
 * A passthrough FUSE file system whose fsync and fdatasync take `delay` seconds longer: a slow disk
 * (an SD card that stalls), made in the test. Needs Debian's python3-fusepy (and its libfuse2).
 */
const SLOW_FS_PY = `
import os, sys, time, errno
try:
    from fusepy import FUSE, FuseOSError, Operations  # Debian's python3-fusepy
except ImportError:
    from fuse import FUSE, FuseOSError, Operations
class Slow(Operations):
    def __init__(self, root, delay):
        self.root, self.delay = root, delay
    def _p(self, p): return os.path.join(self.root, p.lstrip('/'))
    def access(self, p, mode):
        if not os.access(self._p(p), mode): raise FuseOSError(errno.EACCES)
    def chmod(self, p, mode): os.chmod(self._p(p), mode)
    def chown(self, p, uid, gid): os.chown(self._p(p), uid, gid)
    def getattr(self, p, fh=None):
        st = os.lstat(self._p(p))
        return {k: getattr(st, k) for k in ('st_atime','st_ctime','st_gid','st_mode','st_mtime','st_nlink','st_size','st_uid')}
    def readdir(self, p, fh): return ['.', '..'] + os.listdir(self._p(p))
    def rmdir(self, p): os.rmdir(self._p(p))
    def mkdir(self, p, mode): os.mkdir(self._p(p), mode)
    def unlink(self, p): os.unlink(self._p(p))
    def rename(self, a, b): os.rename(self._p(a), self._p(b))
    def utimens(self, p, times=None): os.utime(self._p(p), times)
    def statfs(self, p):
        s = os.statvfs(self._p(p))
        return {k: getattr(s, k) for k in ('f_bavail','f_bfree','f_blocks','f_bsize','f_favail','f_ffree','f_files','f_flag','f_frsize','f_namemax')}
    def open(self, p, flags): return os.open(self._p(p), flags)
    def create(self, p, mode, fi=None): return os.open(self._p(p), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    def read(self, p, size, off, fh): return os.pread(fh, size, off)
    def write(self, p, data, off, fh): return os.pwrite(fh, data, off)
    def truncate(self, p, length, fh=None):
        with open(self._p(p), 'r+') as f: f.truncate(length)
    def flush(self, p, fh): return 0
    def release(self, p, fh): return os.close(fh)
    def fsync(self, p, datasync, fh):
        time.sleep(self.delay)
        return os.fdatasync(fh) if datasync else os.fsync(fh)
    def fsyncdir(self, p, datasync, fh):
        time.sleep(self.delay)
        return 0
print('mounting', flush=True)
FUSE(Slow(sys.argv[1], float(sys.argv[3])), sys.argv[2], foreground=True, nothreads=False)
`;

export interface LabManager {
  readonly name: string;
  readonly netns: string;
  /** The veth end on the bridge (its cable). */
  readonly port: string;
  readonly ip: string;
  readonly addr: string;
  readonly dataDir: string;
  readonly control: string;
  id: string;
  process: Started | undefined;
  /** Output of earlier runs (before restarts). */
  previousLogs: string;
}

export type ActiveStatus = Extract<SwarmStatus, { state: 'active' }>;

export type CableCut = 'link-down' | 'iptables-drop';

/** Labs made by this process so far: a second lab must not reuse the names of one still being torn down. */
let labsMade = 0;

export class PartitionLab {
  readonly prefix = `skf${process.pid}${labsMade++ % 10}`;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'skep-partitions-'));
  readonly managers: LabManager[] = [];
  private readonly bridge = `${this.prefix}br`;
  private subnet = '';
  private readonly created = { bridge: false, forward: false, netns: [] as string[], drops: [] as string[][], mounts: [] as string[] };
  private readonly fuse: ChildProcess[] = [];
  private readonly slow: string[] = [];
  private cliPath = '';

  /** Bridge, hosts and daemons (not yet in a swarm). `slowDisk` names the hosts whose data directory sits on the slow FUSE disk. */
  async create(count: number, options: { slowDisk?: readonly number[]; fsyncDelayMs?: number } = {}): Promise<void> {
    this.cliPath = snapshotCli(this.dir);
    this.subnet = freeSubnet();
    run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    this.created.bridge = true;
    run('ip', ['link', 'set', this.bridge, 'up']);
    run('iptables', ['-I', 'FORWARD', '-i', this.bridge, '-o', this.bridge, '-j', 'ACCEPT']);
    this.created.forward = true;
    for (let i = 0; i < count; i++) {
      const name = `m${i + 1}`;
      const netns = `${this.prefix}-${name}`;
      const port = `${this.prefix}h${i}`;
      const inside = `${this.prefix}p${i}`;
      const ip = `${this.subnet}.${10 + i}`;
      run('ip', ['netns', 'add', netns]);
      this.created.netns.push(netns);
      run('ip', ['link', 'add', port, 'type', 'veth', 'peer', 'name', inside]);
      run('ip', ['link', 'set', inside, 'netns', netns]);
      run('ip', ['link', 'set', port, 'master', this.bridge, 'up']);
      run('ip', ['-n', netns, 'addr', 'add', `${ip}/24`, 'dev', inside]);
      run('ip', ['-n', netns, 'link', 'set', inside, 'up']);
      run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
      const hostDir = path.join(this.dir, name);
      mkdirSync(hostDir, { mode: 0o700 });
      let dataDir = path.join(hostDir, 'data');
      if (options.slowDisk?.includes(i)) {
        dataDir = await this.mountSlowDisk(hostDir, (options.fsyncDelayMs ?? 200) / 1000);
        this.slow.push(name);
      }
      this.managers.push({ name, netns, port, ip, addr: `${ip}:2377`, dataDir, control: `unix://${path.join(hostDir, 'skep.sock')}`, id: '', process: undefined, previousLogs: '' });
    }
    await Promise.all(this.managers.map((m) => this.start(m)));
  }

  private async mountSlowDisk(hostDir: string, delaySeconds: number): Promise<string> {
    const backing = path.join(hostDir, 'backing');
    const mountpoint = path.join(hostDir, 'slow');
    mkdirSync(backing, { mode: 0o700 });
    mkdirSync(mountpoint, { mode: 0o700 });
    const script = path.join(this.dir, 'slowfs.py');
    writeFileSync(script, SLOW_FS_PY);
    // Debian's interpreter: python3-fusepy is installed for it.
    const fuse = spawn('/usr/bin/python3', [script, backing, mountpoint, String(delaySeconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.fuse.push(fuse);
    this.created.mounts.push(mountpoint);
    let errors = '';
    fuse.stderr?.on('data', (c: Buffer) => (errors += c.toString()));
    await waitUntil('the slow FUSE disk', () => {
      if (fuse.exitCode !== null) throw new Error(`the slow disk did not mount: ${errors}`);
      return run('findmnt', ['-n', '-o', 'FSTYPE', mountpoint]).includes('fuse');
    }, { timeoutMs: 15_000, intervalMs: 100 }).catch((error: unknown) => {
      throw new Error(`${String(error)} ${errors}`);
    });
    return path.join(mountpoint, 'data');
  }

  /** Starts (or restarts) a manager's daemon inside its namespace. */
  async start(m: LabManager): Promise<void> {
    if (m.process) m.previousLogs += m.process.output() + `\n---- ${m.name} restarted ----\n`;
    // nsenter execs the daemon: the pid we hold is the daemon's own.
    m.process = startProcess('nsenter', [`--net=/run/netns/${m.netns}`, process.execPath, this.cliPath, 'daemon', '--data-dir', m.dataDir, '--control', m.control]);
    await waitForOutput(m.process, /skep daemon is running/, 60_000);
  }

  async kill9(m: LabManager): Promise<void> {
    const child = m.process?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  running(m: LabManager): boolean {
    const child = m.process?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  cli(m: LabManager, args: readonly string[], stdin?: string): Promise<CliResult> {
    return runCli(m.control, args, stdin === undefined ? {} : { stdin });
  }

  api<T>(m: LabManager, call: (api: SkepClient) => Promise<T>): Promise<T> {
    return withApi(m.control, call);
  }

  /** The manager's status; throws while it is not in a swarm. */
  async status(m: LabManager): Promise<ActiveStatus> {
    const status = await this.api(m, (api) => api.getSwarmStatus());
    if (status.state !== 'active') throw new Error(`${m.name} is not in a swarm`);
    return status;
  }

  /** swarm init on the first manager, the others join as managers. */
  async formSwarm(): Promise<void> {
    const [first, ...rest] = this.managers as [LabManager, ...LabManager[]];
    const init = await this.cli(first, ['swarm', 'init', '--listen-addr', first.addr, '--advertise-addr', first.addr]);
    if (init.code !== 0) throw new Error(`swarm init failed: ${init.stderr}`);
    first.id = (await this.status(first)).nodeId;
    const token = (await this.cli(first, ['swarm', 'join-token', '-q', 'manager'])).stdout.trim();
    for (const m of rest) {
      const join = await this.cli(m, ['swarm', 'join', '--token-stdin', '--listen-addr', m.addr, '--advertise-addr', m.addr, first.addr], token);
      if (join.code !== 0) throw new Error(`swarm join on ${m.name} failed: ${join.stderr}`);
      m.id = (await this.status(m)).nodeId;
    }
  }

  /** The managers whose data directory is on the slow disk. */
  slowDisks(): string[] {
    return [...this.slow];
  }

  byId(id: string | null | undefined): LabManager | undefined {
    return this.managers.find((m) => m.id !== '' && m.id === id);
  }

  /** The leader every manager in `among` agrees on, seeing (at least) all of `among` reachable. */
  async waitForLeader(among: readonly LabManager[] = this.managers, timeoutMs = 60_000): Promise<LabManager> {
    return waitUntil('a leader every manager agrees on', async () => {
      const statuses = await Promise.all(among.map((m) => this.status(m)));
      const leaders = new Set(statuses.map((s) => s.raft?.leaderId ?? null));
      if (leaders.size !== 1) return undefined;
      const leader = this.byId([...leaders][0]);
      if (!leader || !among.includes(leader)) return undefined;
      const own = statuses[among.indexOf(leader)];
      return own?.raft?.leaderId === leader.id && own.reachableManagers >= among.length ? leader : undefined;
    }, { timeoutMs, intervalMs: 100 });
  }

  /** The leader's cable is pulled: nothing reaches the host, nothing leaves it, no reset is sent. */
  cut(m: LabManager, how: CableCut = 'link-down'): void {
    if (how === 'link-down') {
      run('ip', ['link', 'set', m.port, 'down']);
      return;
    }
    for (const rule of [['-i', this.bridge, '-s', m.ip], ['-i', this.bridge, '-d', m.ip]]) {
      const args = ['FORWARD', ...rule, '-j', 'DROP'];
      run('iptables', ['-I', ...args]);
      this.created.drops.push(args);
    }
  }

  heal(m: LabManager): void {
    run('ip', ['link', 'set', m.port, 'up']);
    for (const args of this.created.drops.filter((a) => a.includes(m.ip))) {
      tryRun('iptables', ['-D', ...args]);
      this.created.drops.splice(this.created.drops.indexOf(args), 1);
    }
  }

  /** A label write through the API (as `skep node update --label-add`), via one manager. */
  writeLabel(via: LabManager, target: string, key: string, value: string): Promise<void> {
    return this.api(via, (api) => api.nodeUpdate(target, { labelAdd: { [key]: value } })).then(() => undefined);
  }

  /**
   * Label writes through the API every `everyMs`, alternating over `via`, from now until one is
   * acknowledged, each under its own key (`prefix` + attempt). Returns the time from `since` to the first
   * acknowledgement and every write acknowledged by the time the attempts settled.
   */
  async firstAcknowledgedWrite(via: readonly LabManager[], target: string, prefix: string, since: number, everyMs = 20, timeoutMs = 60_000): Promise<{ ms: number; acknowledged: Map<string, string> }> {
    let firstMs: number | undefined;
    const acknowledged = new Map<string, string>();
    const attempts: Promise<void>[] = [];
    for (let i = 0; firstMs === undefined; i++) {
      if (performance.now() - since > timeoutMs) throw new Error(`no write acknowledged within ${timeoutMs} ms`);
      const key = `${prefix}${i}`;
      const value = String(Date.now());
      attempts.push(this.writeLabel(via[i % via.length] as LabManager, target, key, value).then(
        () => {
          firstMs ??= performance.now() - since;
          acknowledged.set(key, value);
        },
        () => undefined,
      ));
      await sleep(everyMs);
    }
    await Promise.all(attempts);
    return { ms: firstMs, acknowledged };
  }

  /** The node's labels as `m` serves them. */
  async labels(m: LabManager, target: string): Promise<Readonly<Record<string, string>>> {
    const nodes: SwarmNode[] = await this.api(m, (api) => api.nodeList());
    return nodes.find((n) => n.id === target)?.spec.labels ?? {};
  }

  logs(): string {
    return this.managers.map((m) => `==== ${m.name} (${m.addr}, ${m.id}) ====\n${m.previousLogs}${m.process?.output() ?? ''}`).join('\n');
  }

  /** Removes everything this lab made, each piece by its own name or pid, whatever failed before. */
  async destroy(): Promise<void> {
    for (const m of this.managers) {
      try {
        run('ip', ['link', 'set', m.port, 'up']);
      } catch {
        // gone already
      }
      await m.process?.stop('SIGTERM').catch(() => undefined);
    }
    for (const mountpoint of this.created.mounts) tryRun('umount', ['-l', mountpoint]);
    for (const fuse of this.fuse) if (fuse.exitCode === null) fuse.kill('SIGKILL');
    for (const args of this.created.drops) tryRun('iptables', ['-D', ...args]);
    for (const netns of this.created.netns) tryRun('ip', ['netns', 'del', netns]);
    if (this.created.bridge) tryRun('ip', ['link', 'del', this.bridge]);
    if (this.created.forward) tryRun('iptables', ['-D', 'FORWARD', '-i', this.bridge, '-o', this.bridge, '-j', 'ACCEPT']);
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Two busy loops: both cores of this machine busy for the run. Stopped by pid. */
function loadBothCores(): ChildProcess[] {
  return [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

export interface StabilityResult {
  readonly seconds: number;
  readonly leaderChanges: number;
  readonly termChanges: number;
  readonly writes: number;
  readonly failedWrites: number;
}

/**
 * A healthy group under stress, for `seconds`: both cores busy (two busy loops) and the leader's data
 * directory on a FUSE disk whose fsync takes `fsyncDelayMs` longer, with a write every 100 ms through the
 * leader. Counts the leader changes seen (terms and leader IDs polled every 100 ms on every manager).
 * Needs root and Debian's python3-fusepy. Makes and removes its own lab.
 */
export async function stabilityRun(seconds: number, print: (line: string) => void, fsyncDelayMs = 200): Promise<StabilityResult> {
  const lab = new PartitionLab();
  try {
    // m1's data directory is on the slow disk, and m1 (which inits the swarm) leads: its heartbeats wait
    // behind its fsyncs, the harder case for the followers' silence detectors.
    await lab.create(3, { slowDisk: [0], fsyncDelayMs });
    await lab.formSwarm();
    return await watchStability(lab, seconds, print);
  } finally {
    await lab.destroy();
  }
}

/** The measuring half of stabilityRun, on a formed lab whose leader has the slow disk. */
export async function watchStability(lab: PartitionLab, seconds: number, print: (line: string) => void): Promise<StabilityResult> {
  const burners: ChildProcess[] = [];
  try {
    const leader0 = await lab.waitForLeader();
    print(`partitions.stability slow_disk=${lab.slowDisks().join(',')} leader=${leader0.name}`);
    const target = leader0.id;
    burners.push(...loadBothCores());
    const seen = new Map<string, { term: number; leader: string | null }>();
    let leaderChanges = 0;
    let firstTerm: number | undefined;
    let lastTerm = 0;
    let writes = 0;
    let failedWrites = 0;
    const deadline = performance.now() + seconds * 1000;
    const poll = async (): Promise<void> => {
      while (performance.now() < deadline) {
        await Promise.all(lab.managers.map(async (m) => {
          const status = await lab.status(m).catch(() => undefined);
          const raft = status?.raft;
          if (!raft) return;
          firstTerm ??= raft.term;
          lastTerm = Math.max(lastTerm, raft.term);
          const before = seen.get(m.name);
          if (before && raft.leaderId !== null && before.leader !== null && raft.leaderId !== before.leader) {
            leaderChanges++;
            print(`partitions.stability leader_change on=${m.name} from=${before.leader} to=${raft.leaderId} term=${raft.term}`);
          }
          if (raft.leaderId !== null) seen.set(m.name, { term: raft.term, leader: raft.leaderId });
        }));
        await sleep(100);
      }
    };
    const load = async (): Promise<void> => {
      for (let i = 0; performance.now() < deadline; i++) {
        const leader = lab.byId(seen.get('m1')?.leader) ?? leader0;
        try {
          await lab.writeLabel(leader, target, 'steady', String(i));
          writes++;
        } catch {
          failedWrites++;
        }
        await sleep(100);
      }
    };
    await Promise.all([poll(), load()]);
    return { seconds, leaderChanges, termChanges: lastTerm - (firstTerm ?? lastTerm), writes, failedWrites };
  } finally {
    for (const b of burners) b.kill('SIGKILL');
  }
}


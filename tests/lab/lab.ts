// The provisioning lab: hosts made of a network namespace (on a bridge of the lab's own) and a
// private mount + UTS namespace (its own /opt, /var/lib, /etc/systemd, /run and hostname), each with
// a real OpenSSH sshd (own config, host keys and port). Users for the tests (root by key, passwordless
// sudo, password sudo, no sudo) and a skep daemon on the bridge as the swarm's manager.
// Everything is named with a per-run prefix and removed by those names and by pid.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, snapshotCli, waitUntil } from '../cluster/harness.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

export interface LabUser {
  readonly name: string;
  readonly password: string;
}

/** What the tests get (plain data: it crosses from the global setup to the test files). */
export interface LabInfo {
  readonly prefix: string;
  readonly dir: string;
  readonly bridgeAddr: string;
  readonly control: string;
  readonly daemonPid: number;
  readonly daemonLog: string;
  readonly hosts: readonly LabHostInfo[];
  readonly users: { readonly nopasswd: LabUser; readonly password: LabUser; readonly nosudo: LabUser };
  readonly keys: { readonly root: string; readonly withPassphrase: string; readonly passphrase: string; readonly unknown: string };
}

export interface LabHostInfo {
  readonly name: string;
  readonly netns: string;
  readonly address: string;
  readonly sshPort: number;
  readonly holderPid: number;
  readonly sshdConfig: string;
  readonly hostKeyFiles: readonly string[];
  /** Pid file of the running sshd (restarts write a new one). */
  readonly sshdPidFile: string;
}

export interface HostSpec {
  readonly name: string;
  /** A fake /etc/os-release, bind-mounted in the host's private mount namespace. */
  readonly osRelease?: string;
  /** What `uname -m` says there (a script bind-mounted over uname in the private mount namespace). */
  readonly fakeArch?: string;
}

function run(command: string, args: readonly string[], input?: string): string {
  return execFileSync(command, [...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
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
    const third = (process.pid + attempt) % 200 + 20;
    const subnet = `10.213.${third}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.213.X.0/24 subnet for the lab');
}

export class Lab {
  private readonly holders = new Map<string, ChildProcess>();
  private daemon: Started | undefined;
  private readonly created = { bridge: false, forward: false, netns: [] as string[], users: [] as string[], sudoers: false };
  info: LabInfo | undefined;

  readonly prefix = `skl${process.pid}`;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'skep-lab-'));
  private readonly bridge = `${this.prefix}br`;
  private readonly sudoersFile = `/etc/sudoers.d/${this.prefix}`;

  async create(specs: readonly HostSpec[]): Promise<LabInfo> {
    chmodSync(this.dir, 0o755);
    const subnet = freeSubnet();
    const bridgeAddr = `${subnet}.1`;
    run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    this.created.bridge = true;
    run('ip', ['addr', 'add', `${bridgeAddr}/24`, 'dev', this.bridge]);
    run('ip', ['link', 'set', this.bridge, 'up']);
    run('iptables', ['-I', 'FORWARD', '-i', this.bridge, '-o', this.bridge, '-j', 'ACCEPT']);
    this.created.forward = true;

    const users = this.createUsers();
    const keys = this.createKeys(users);
    const hosts: LabHostInfo[] = [];
    for (const [i, spec] of specs.entries()) hosts.push(await this.createHost(spec, i, `${subnet}.${10 + i}`, users));

    // The manager: a real skep daemon in the root namespace, listening on the bridge.
    const daemonDir = path.join(this.dir, 'manager');
    mkdirSync(daemonDir, { mode: 0o700 });
    const cli = snapshotCli(this.dir);
    const control = `unix://${path.join(daemonDir, 'skep.sock')}`;
    this.daemon = startProcess(process.execPath, [cli, 'daemon', '--data-dir', path.join(daemonDir, 'data'), '--control', control]);
    const daemonLog = path.join(this.dir, 'manager.log');
    this.daemon.child.stdout?.on('data', (chunk: Buffer) => appendFileSync(daemonLog, chunk));
    this.daemon.child.stderr?.on('data', (chunk: Buffer) => appendFileSync(daemonLog, chunk));
    await waitForOutput(this.daemon, /skep daemon is running/);
    const init = await runCli(control, ['swarm', 'init', '--listen-addr', `${bridgeAddr}:2377`, '--advertise-addr', `${bridgeAddr}:2377`]);
    if (init.code !== 0) throw new Error(`swarm init failed: ${init.stderr}`);
    this.info = {
      prefix: this.prefix,
      dir: this.dir,
      bridgeAddr,
      control,
      daemonPid: this.daemon.child.pid ?? 0,
      daemonLog,
      hosts,
      users,
      keys,
    };
    return this.info;
  }

  private createUsers(): LabInfo['users'] {
    const user = (suffix: string): LabUser => ({ name: `${this.prefix}${suffix}`, password: `pw-${suffix}-${Math.random().toString(36).slice(2)}` });
    const users = { nopasswd: user('np'), password: user('pw'), nosudo: user('ns') };
    for (const [kind, u] of Object.entries(users)) {
      run('useradd', ['-M', '-d', '/tmp', '-s', '/bin/sh', ...(kind === 'password' ? ['-G', 'sudo'] : []), u.name]);
      this.created.users.push(u.name);
      run('chpasswd', [], `${u.name}:${u.password}\n`);
    }
    writeFileSync(this.sudoersFile, `${users.nopasswd.name} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    this.created.sudoers = true;
    return users;
  }

  private createKeys(users: LabInfo['users']): LabInfo['keys'] {
    const keyDir = path.join(this.dir, 'keys');
    mkdirSync(keyDir, { mode: 0o700 });
    const make = (name: string, passphrase: string): string => {
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', `${this.prefix}-${name}`, '-f', path.join(keyDir, name)]);
      return path.join(keyDir, name);
    };
    const passphrase = `lab-${Math.random().toString(36).slice(2)}`;
    const keys = { root: make('root', ''), withPassphrase: make('passphrase', passphrase), passphrase, unknown: make('unknown', '') };
    const authorized = path.join(this.dir, 'authorized_keys');
    mkdirSync(authorized, { mode: 0o755 });
    const pub = (file: string): string => readFileSync(`${file}.pub`, 'utf8');
    for (const name of ['root', users.nopasswd.name, users.password.name, users.nosudo.name]) {
      writeFileSync(path.join(authorized, name), pub(keys.root) + pub(keys.withPassphrase), { mode: 0o644 });
    }
    return keys;
  }

  private async createHost(spec: HostSpec, index: number, address: string, users: LabInfo['users']): Promise<LabHostInfo> {
    const netns = `${this.prefix}-${spec.name}`;
    const outside = `${this.prefix}h${index}`;
    const inside = `${this.prefix}p${index}`;
    run('ip', ['netns', 'add', netns]);
    this.created.netns.push(netns);
    run('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
    run('ip', ['link', 'set', inside, 'netns', netns]);
    run('ip', ['link', 'set', outside, 'master', this.bridge, 'up']);
    run('ip', ['-n', netns, 'addr', 'add', `${address}/24`, 'dev', inside]);
    run('ip', ['-n', netns, 'link', 'set', inside, 'up']);
    run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);

    const hostDir = path.join(this.dir, spec.name);
    mkdirSync(hostDir, { mode: 0o755 });
    let osReleaseMount = '';
    if (spec.osRelease !== undefined) {
      writeFileSync(path.join(hostDir, 'os-release'), spec.osRelease, { mode: 0o644 });
      osReleaseMount = `mount --bind ${path.join(hostDir, 'os-release')} /etc/os-release`;
    }
    // Its own name resolves locally and nothing asks a nameserver it can't reach (sshd and sudo
    // would wait seconds on every session for a lookup that can't succeed).
    const hostname = `${this.prefix}-${spec.name}`;
    writeFileSync(path.join(hostDir, 'hosts'), `127.0.0.1 localhost\n127.0.1.1 ${hostname}\n`, { mode: 0o644 });
    writeFileSync(path.join(hostDir, 'resolv.conf'), '# lab host: no nameserver\n', { mode: 0o644 });
    let unameMount = '';
    if (spec.fakeArch !== undefined) {
      writeFileSync(path.join(hostDir, 'uname'), `#!/bin/sh\nif [ "$1" = -m ]; then echo ${spec.fakeArch}; else echo 6.1.0-lab; fi\n`, { mode: 0o755 });
      unameMount = `mount --bind ${path.join(hostDir, 'uname')} /usr/bin/uname`;
    }
    // The holder keeps the host's mount and UTS namespaces alive while sshd is killed and restarted.
    const setup = [
      `hostname ${hostname}`,
      `mount --bind ${path.join(hostDir, 'hosts')} /etc/hosts`,
      `mount --bind ${path.join(hostDir, 'resolv.conf')} /etc/resolv.conf`,
      ...['/opt', '/var/lib', '/etc/systemd', '/run'].map((dir) => `mount -t tmpfs -o mode=0755 tmpfs ${dir}`),
      'mkdir -p /run/sshd',
      osReleaseMount,
      unameMount,
      'echo ready',
      'exec sleep 1000000',
    ].filter(Boolean).join('\n');
    const holder = spawn('nsenter', [`--net=/run/netns/${netns}`, 'unshare', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', setup], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.holders.set(netns, holder);
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`lab host ${spec.name} did not start (${code})`)));
    });

    const hostKey = path.join(hostDir, 'ssh_host_ed25519_key');
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    const sshPort = 2200 + index;
    const sshdPidFile = path.join(hostDir, 'sshd.pid');
    const sshdConfig = path.join(hostDir, 'sshd_config');
    writeFileSync(
      sshdConfig,
      [
        `Port ${sshPort}`,
        `ListenAddress ${address}`,
        `HostKey ${hostKey}`,
        `PidFile ${sshdPidFile}`,
        `AuthorizedKeysFile ${path.join(this.dir, 'authorized_keys')}/%u`,
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        `AllowUsers root ${users.nopasswd.name} ${users.password.name} ${users.nosudo.name}`,
        'PrintMotd no',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    const info: LabHostInfo = { name: spec.name, netns, address, sshPort, holderPid: holder.pid ?? 0, sshdConfig, hostKeyFiles: [hostKey], sshdPidFile };
    await startSshd(info);
    return info;
  }

  /** Removes everything the lab made, each piece by its own name or pid, whatever failed before. */
  async destroy(): Promise<void> {
    await this.daemon?.stop().catch(() => undefined);
    for (const netns of this.created.netns) {
      // Every process in the host (sshd, its sessions, supervised agents) by pid, then the holder.
      let pids: string[] = [];
      try {
        pids = run('ip', ['netns', 'pids', netns]).split('\n').filter(Boolean);
      } catch {
        pids = [];
      }
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      const holder = this.holders.get(netns);
      if (holder?.pid && holder.exitCode === null) holder.kill('SIGKILL');
      tryRun('ip', ['netns', 'del', netns]);
    }
    if (this.created.bridge) tryRun('ip', ['link', 'del', this.bridge]);
    if (this.created.forward) tryRun('iptables', ['-D', 'FORWARD', '-i', this.bridge, '-o', this.bridge, '-j', 'ACCEPT']);
    if (this.created.sudoers) rmSync(this.sudoersFile, { force: true });
    for (const user of this.created.users) tryRun('userdel', [user]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts (or restarts) a host's sshd inside its namespaces; resolves when it accepts connections. */
export async function startSshd(host: LabHostInfo): Promise<number> {
  rmSync(host.sshdPidFile, { force: true });
  const ns = [`--net=/run/netns/${host.netns}`, `--mount=/proc/${host.holderPid}/ns/mnt`, `--uts=/proc/${host.holderPid}/ns/uts`];
  // sshd -D stays in the foreground; detached so it is no child the test runner waits on.
  const sshd = spawn('nsenter', [...ns, '/usr/sbin/sshd', '-D', '-f', host.sshdConfig], { stdio: 'ignore', detached: true });
  sshd.unref();
  await waitUntil(`sshd on ${host.name}`, () => existsSync(host.sshdPidFile));
  return sshd.pid ?? 0;
}

/** The host vanishes: its sshd and every session it serves are killed by pid (SIGKILL). */
export function killSshd(host: LabHostInfo): void {
  const master = Number(readFileSync(host.sshdPidFile, 'utf8').trim());
  for (const pid of [...descendants(master), master]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  rmSync(host.sshdPidFile, { force: true });
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirNumbers('/proc')) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), entry]);
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

function readdirNumbers(dir: string): number[] {
  return readdirSync(dir).filter((name) => /^\d+$/.test(name)).map(Number);
}

// Adding machines over SSH against real OpenSSH servers in namespace hosts, through the real CLI
// and the real daemon (the swarm's manager). The tests run in order: later ones use earlier hosts.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SkepError } from '../../shared/errors.js';
import type { ProvisionProgress } from '../../shared/provision.js';
import type { SwarmNode } from '../../shared/types.js';
import { connectControl, type ControlClient } from '../../electron/cli/control-client.js';
import { runCli, waitUntil, withApi, type CliResult } from '../cluster/harness.js';
import { killSshd, startSshd, type LabHostInfo } from './lab.js';

const lab = inject('lab');
const host = (name: string): LabHostInfo => {
  const found = lab.hosts.find((h) => h.name === name);
  if (!found) throw new Error(`no lab host ${name}`);
  return found;
};
const at = (user: string, name: string): string => `${user}@${host(name).address}:${host(name).sshPort}`;

/** Every CLI run's output, scanned at the end for secrets. */
const outputs: string[] = [];
async function skep(args: readonly string[], stdin?: string): Promise<CliResult> {
  const result = await runCli(lab.control, args, { timeoutMs: 150_000, ...(stdin !== undefined ? { stdin } : {}) });
  outputs.push(result.stdout, result.stderr);
  return result;
}

function fingerprintOf(name: string): string {
  const line = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${host(name).hostKeyFiles[0]}.pub`], { encoding: 'utf8' });
  return line.split(' ')[1] ?? '';
}

/** Runs a command inside a lab host's private mount namespace (what the installer wrote is there). */
function inHost(name: string, script: string): string {
  return execFileSync('nsenter', [`--mount=/proc/${host(name).holderPid}/ns/mnt`, `--net=/run/netns/${host(name).netns}`, 'sh', '-c', script], { encoding: 'utf8' });
}

async function nodes(): Promise<SwarmNode[]> {
  return withApi(lab.control, (api) => api.nodeList());
}

async function readyNode(name: string): Promise<SwarmNode> {
  return waitUntil(`${name} Ready in node ls`, async () => (await nodes()).find((n) => n.description.hostname === `${lab.prefix}-${name}` && n.status.state === 'ready'));
}

/** Command lines of every process that ran while the scan was on. */
class ProcessScan {
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  start(): void {
    this.timer = setInterval(() => {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          this.seen.add(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
        } catch {
          // exited
        }
      }
    }, 15);
  }
  stop(): string[] {
    clearInterval(this.timer);
    return [...this.seen];
  }
}

const secrets: string[] = [lab.users.nopasswd.password, lab.users.password.password, lab.users.nosudo.password, lab.keys.passphrase];
const scan = new ProcessScan();
const rootKey = lab.keys.root;

beforeAll(async () => {
  const token = await withApi(lab.control, (api) => api.swarmJoinToken('worker', false));
  const managerToken = await withApi(lab.control, (api) => api.swarmJoinToken('manager', false));
  secrets.push(token.token, managerToken.token, readFileSync(rootKey, 'utf8').split('\n')[1] ?? 'no-key-line');
  scan.start();
});

afterAll(() => {
  scan.stop();
});

describe('adding machines over SSH (real sshd in namespace hosts)', () => {
  it('shows an unknown host key with OpenSSH\'s fingerprint, and pins it once accepted', async () => {
    const fingerprint = fingerprintOf('h1');
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const refused = await skep(['machine', 'add', '-i', rootKey, '--yes', at('root', 'h1')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`The authenticity of host '${host('h1').address}:${host('h1').sshPort}' can't be established`);
    expect(refused.stderr).toContain(`ssh-ed25519 key fingerprint is ${fingerprint}`);

    const wrongPin = await skep(['machine', 'check', '-i', rootKey, '--accept-host-key', fingerprintOf('h2'), at('root', 'h1')]);
    expect(wrongPin.code).toBe(1);
    expect(wrongPin.stderr).toContain(fingerprint);

    const checked = await skep(['machine', 'check', '-i', rootKey, '--accept-host-key', fingerprint, at('root', 'h1')]);
    expect(checked.stderr).toBe('');
    expect(checked.stdout).toContain(`Host key:  ssh-ed25519 ${fingerprint} (trusted)`);
    expect(checked.stdout).toContain('Join the swarm as a worker');
    const knownHosts = path.join(lab.dir, 'manager', 'data', 'known_hosts');
    expect(statSync(knownHosts).mode & 0o777).toBe(0o600);
    expect(readFileSync(knownHosts, 'utf8')).toContain(`[${host('h1').address}]:${host('h1').sshPort} ssh-ed25519 `);
    // Pinned: no consent needed any more.
    const again = await skep(['machine', 'check', '-i', rootKey, at('root', 'h1')]);
    expect(again.code).toBe(0);
  });

  it('adds a worker end to end: root by key, the node shows Ready', async () => {
    const added = await skep(['machine', 'add', '-i', rootKey, '--yes', at('root', 'h1')]);
    expect(added.stderr).toContain('✓ [joined]');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/joined the swarm as a worker: node \w+ is Ready/);
    const node = await readyNode('h1');
    expect(node.role).toBe('worker');
    const ls = await skep(['node', 'ls']);
    expect(ls.stdout).toMatch(new RegExp(`${lab.prefix}-h1\\s+Ready`));
    const machines = await skep(['machine', 'ls']);
    expect(machines.stdout).toMatch(new RegExp(`${host('h1').address}:${host('h1').sshPort}\\s+root\\s+worker\\s+${node.id}\\s+Ready`));
    // The join token's root-only file is gone; the agent runs supervised (no systemd here).
    expect(inHost('h1', 'ls /var/lib/skep; cat /run/skep/supervisor.pid')).not.toContain('join-token');
    expect(inHost('h1', 'kill -0 "$(cat /run/skep/supervisor.pid)" && echo alive')).toContain('alive');
  });

  it('changes nothing when run again on an installed machine', async () => {
    const before = inHost('h1', 'stat -c %Y.%i /opt/skep/skep.mjs; cat /run/skep/supervisor.pid');
    const again = await skep(['machine', 'add', '-i', rootKey, '--yes', at('root', 'h1')]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing changed');
    expect(again.stderr).toContain('Nothing to install');
    expect(inHost('h1', 'stat -c %Y.%i /opt/skep/skep.mjs; cat /run/skep/supervisor.pid')).toBe(before);
  });

  it('adds a manager through a user with passwordless sudo', async () => {
    const added = await skep(['machine', 'add', '-i', rootKey, '--role', 'manager', '--yes', '--accept-host-key', fingerprintOf('h2'), at(lab.users.nopasswd.name, 'h2')]);
    expect(added.stderr + added.stdout).toContain('joined the swarm as a manager');
    const node = await readyNode('h2');
    await waitUntil('h2 a reachable manager', async () => (await nodes()).find((n) => n.id === node.id && n.managerStatus?.reachability === 'reachable'));
  });

  it('says why a login fails: wrong password, wrong key, a key that needs its passphrase', async () => {
    const h4 = host('h4');
    const accept = ['--accept-host-key', fingerprintOf('h4')];
    const wrongPassword = await skep(['machine', 'check', '--password-stdin', ...accept, at(lab.users.nosudo.name, 'h4')], 'not-the-password\n');
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr).toContain(`${lab.users.nosudo.name}@${h4.address}:${h4.sshPort}: Permission denied (publickey,password)`);
    const wrongKey = await skep(['machine', 'check', '-i', lab.keys.unknown, ...accept, at(lab.users.nosudo.name, 'h4')]);
    expect(wrongKey.stderr).toContain('Permission denied (publickey,password)');
    const notAKey = await skep(['machine', 'check', '-i', host('h4').sshdConfig, ...accept, at(lab.users.nosudo.name, 'h4')]);
    expect(notAKey.stderr).toContain('the private key can\'t be read');
    const needsPassphrase = await skep(['machine', 'check', '-i', lab.keys.withPassphrase, ...accept, at(lab.users.nosudo.name, 'h4')]);
    expect(needsPassphrase.stderr).toContain('the private key is encrypted: give its passphrase');
    const withPassphrase = await skep(['machine', 'check', '-i', lab.keys.withPassphrase, '--password-stdin', ...accept, at(lab.users.nosudo.name, 'h4')], `${lab.keys.passphrase}\n`);
    expect(withPassphrase.stdout).toContain(`User: ${lab.users.nosudo.name} (sudo: none)`);
  });

  it('logs in through an ssh-agent when no key or password is given', async () => {
    const socket = path.join(lab.dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    const previous = process.env['SSH_AUTH_SOCK'];
    try {
      await waitUntil('the ssh-agent socket', () => existsSync(socket));
      execFileSync('ssh-add', ['-q', rootKey], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      process.env['SSH_AUTH_SOCK'] = socket;
      const checked = await skep(['machine', 'check', '--accept-host-key', fingerprintOf('h4'), at(lab.users.nosudo.name, 'h4')]);
      expect(checked.stdout).toContain(`User: ${lab.users.nosudo.name} (sudo: none)`);
    } finally {
      if (previous === undefined) delete process.env['SSH_AUTH_SOCK'];
      else process.env['SSH_AUTH_SOCK'] = previous;
      agent.kill('SIGTERM');
    }
  });

  it('stops a user without sudo before changing anything, with the sudoers line to add', async () => {
    const result = await skep(['machine', 'add', '--password-stdin', '--yes', '--accept-host-key', fingerprintOf('h4'), at(lab.users.nosudo.name, 'h4')], `${lab.users.nosudo.password}\n`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${lab.users.nosudo.name} can't run commands as root (no sudo)`);
    expect(result.stderr).toContain(`${lab.users.nosudo.name} ALL=(ALL:ALL) ALL`);
    expect(inHost('h4', 'ls -A /opt /var/lib')).toBe('/opt:\n\n/var/lib:\n');
  });

  it('stops on an unsupported OS or architecture before changing anything', async () => {
    const os = await skep(['machine', 'add', '-i', rootKey, '--yes', '--accept-host-key', fingerprintOf('h5'), at('root', 'h5')]);
    expect(os.code).toBe(1);
    expect(os.stderr).toContain('this machine can\'t run Skep: Alpine Linux v3.20 is not a Debian-like system');
    expect(os.stderr).toContain('Nothing was changed.');
    const arch = await skep(['machine', 'add', '-i', rootKey, '--yes', '--accept-host-key', fingerprintOf('h6'), at('root', 'h6')]);
    expect(arch.code).toBe(1);
    expect(arch.stderr).toContain('the armv6l architecture is not supported');
    for (const name of ['h5', 'h6']) expect(inHost(name, 'ls -A /opt /var/lib')).toBe('/opt:\n\n/var/lib:\n');
  });

  it('passes a sudo password on stdin, survives the machine vanishing mid-install, and finishes on a rerun', async () => {
    const h3 = host('h3');
    const user = lab.users.password;
    const fingerprint = fingerprintOf('h3');
    const wrongSudo = await skep(['machine', 'add', '--password-stdin', '--sudo-password-stdin', '--yes', '--accept-host-key', fingerprint, at(user.name, 'h3')], `${user.password}\nnot-the-sudo-password\n`);
    expect(wrongSudo.code).toBe(1);
    expect(wrongSudo.stderr).toContain(`sudo refused the password given for ${user.name}`);
    const noSudoPassword = await skep(['machine', 'add', '--password-stdin', '--yes', at(user.name, 'h3')], `${user.password}\n`);
    expect(noSudoPassword.stderr).toContain(`sudo asks ${user.name} for a password`);

    // Through the API, to kill the host's sshd the moment the bundle starts to copy.
    const client: ControlClient = connectControl(lab.control);
    const seen: ProvisionProgress[] = [];
    client.onEvent((event) => {
      if (event.type !== 'provision.progress' || event.payload.operationId !== 'vanish') return;
      seen.push(event.payload);
      if (event.payload.step === 'copy-bundle' && event.payload.state === 'running' && seen.filter((e) => e.step === 'copy-bundle').length === 1) killSshd(h3);
    });
    const failure = await client
      .machineAdd({ target: { user: user.name, host: h3.address, port: h3.sshPort }, auth: { password: user.password }, sudoPassword: user.password, operationId: 'vanish' })
      .then(() => undefined, (error: unknown) => error);
    client.close();
    expect(failure).toBeInstanceOf(SkepError);
    expect((failure as SkepError).code).toBe('SSH_CONNECTION_LOST');
    expect((failure as SkepError).message).toContain(`the SSH connection to ${h3.address}:${h3.sshPort} was lost during copying the agent`);
    expect(seen.some((e) => e.phase === 'install' && e.state === 'failed' && e.step === 'copy-bundle')).toBe(true);

    await startSshd(h3);
    const rerun = await skep(['machine', 'add', '--password-stdin', '--sudo-password-stdin', '--yes', at(user.name, 'h3')], `${user.password}\n${user.password}\n`);
    expect(rerun.stderr + rerun.stdout).toContain('joined the swarm as a worker');
    await readyNode('h3');
    expect(inHost('h3', 'ls /tmp | grep -c skep-stage || true').trim()).toBe('0');
  });

  it('removes a machine: leaves the swarm, no supervisor, no files, node gone from node ls', async () => {
    const worker = await readyNode('h1');
    const removed = await skep(['machine', 'rm', '-i', rootKey, host('h1').address]);
    expect(removed.stderr).toContain('✓ [remove]');
    expect(removed.stdout).toContain('Left in place:');
    expect(inHost('h1', 'ls -A /opt /var/lib /run')).not.toMatch(/skep/);
    const left = execFileSync('ip', ['netns', 'pids', host('h1').netns], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const pid of left) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      expect(cmdline).not.toMatch(/skep\.mjs|supervise\.sh/);
    }
    await waitUntil('h1 gone from node ls', async () => !(await nodes()).some((n) => n.id === worker.id));

    const manager = await readyNode('h2');
    const removedManager = await skep(['machine', 'rm', '-i', rootKey, host('h2').address]);
    expect(removedManager.code).toBe(0);
    await waitUntil('h2 gone from node ls', async () => !(await nodes()).some((n) => n.id === manager.id));
    expect(inHost('h2', 'ls -A /opt /var/lib')).toBe('/opt:\n\n/var/lib:\n');
    const machines = await skep(['machine', 'ls']);
    expect(machines.stdout).not.toContain(host('h1').address + ':');
  });

  it('stops hard on a changed host key, with both fingerprints, until the new key is trusted', async () => {
    const h1 = host('h1');
    const old = fingerprintOf('h1');
    killSshd(h1);
    const keyFile = h1.hostKeyFiles[0] ?? '';
    execFileSync('sh', ['-c', `rm -f ${keyFile} ${keyFile}.pub && ssh-keygen -q -t ed25519 -N '' -f ${keyFile}`]);
    await startSshd(h1);
    const fresh = fingerprintOf('h1');
    expect(fresh).not.toBe(old);
    const stopped = await skep(['machine', 'check', '-i', rootKey, at('root', 'h1')]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(stopped.stderr).toContain(old);
    expect(stopped.stderr).toContain(fresh);
    // --accept-host-key is for new machines: it never overrides a pinned key.
    const accepted = await skep(['machine', 'check', '-i', rootKey, '--accept-host-key', fresh, at('root', 'h1')]);
    expect(accepted.code).toBe(1);
    const replaced = await skep(['machine', 'check', '-i', rootKey, '--replace-host-key', fresh, at('root', 'h1')]);
    expect(replaced.stdout).toContain(`${fresh} (trusted)`);
  });

  it('never shows a secret in a process\'s command line, the CLI\'s output or the logs', () => {
    const commandLines = scan.stop();
    expect(commandLines.length).toBeGreaterThan(100);
    expect(commandLines.some((line) => line.includes('sudo -k -S'))).toBe(true);
    const logs = [readFileSync(lab.daemonLog, 'utf8'), inHost('h3', 'cat /var/lib/skep/daemon.log'), ...outputs];
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      for (const line of commandLines) expect(line).not.toContain(secret);
      for (const log of logs) expect(log).not.toContain(secret);
    }
    writeFileSync(path.join(lab.dir, 'scanned-command-lines.txt'), commandLines.join('\n'));
  });
});

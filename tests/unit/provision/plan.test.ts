// The plan is pure: every "stop before changing anything" rule, and what a rerun plans.
import { describe, expect, it } from 'vitest';
import type { MachineFacts } from '../../../shared/provision.js';
import { factsFrom, parseKeyValues, sudoModeOf } from '../../../electron/provision/facts.js';
import { planInstall, sudoersLine, type PlanInput } from '../../../electron/provision/plan.js';

const debianPi: MachineFacts = {
  hostname: 'pi-1',
  os: { id: 'raspbian', idLike: 'debian', name: 'Raspbian GNU/Linux 12 (bookworm)', version: '12' },
  architecture: 'aarch64',
  kernel: '6.6.31+rpt-rpi-v8',
  cpus: 4,
  memoryBytes: 8 * 1024 ** 3,
  diskFreeBytes: 20 * 1024 ** 3,
  init: 'systemd',
  user: 'pi',
  sudo: 'nopasswd',
  docker: { present: true, version: '20.10.24', snap: false, reachable: false },
  node: { path: '/usr/bin/node', version: 'v18.19.0' },
  cgroupMemory: true,
  clockOffsetMs: 120,
  skep: { installedVersion: '', bundleSha256: '', running: false, nodeId: '', clusterId: '', known: true },
  reachesManager: true,
};

const input = (facts: Partial<MachineFacts>, extra: Partial<PlanInput> = {}): PlanInput => ({
  facts: { ...debianPi, ...facts },
  role: 'worker',
  bundle: { version: '0.1.0', sha256: 'a'.repeat(64) },
  swarm: { clusterId: 'cluster-1', managerAddr: '192.168.1.10:2377' },
  installMissing: false,
  sudoPasswordGiven: false,
  ...extra,
});

describe('the install plan', () => {
  it('installs, supervises, starts and joins a fresh Raspberry Pi, each step with why', () => {
    const plan = planInstall(input({}));
    expect(plan.stop).toBeUndefined();
    expect(plan.steps.map((s) => s.id)).toEqual(['copy-bundle', 'install-service', 'start-agent', 'join']);
    expect(plan.steps.every((s) => s.why.length > 10)).toBe(true);
    expect(plan.steps[1]?.title).toBe('Install the systemd unit');
    expect(plan.notes.join(' ')).toContain('Docker Engine 20.10.24 is left as it is');
  });

  it('uses a supervisor where there is no systemd', () => {
    expect(planInstall(input({ init: 'other' })).steps[1]?.title).toBe('Install the supervisor');
  });

  it('plans nothing on a machine already in this swarm with this bundle', () => {
    const plan = planInstall(input({ skep: { installedVersion: '0.1.0', bundleSha256: 'a'.repeat(64), running: true, nodeId: 'n1', clusterId: 'cluster-1', known: true } }));
    expect(plan.upToDate).toBe(true);
    expect(plan.steps).toEqual([]);
  });

  it('replaces and restarts only the agent when its version differs', () => {
    const plan = planInstall(input({ skep: { installedVersion: '0.0.9', bundleSha256: 'b'.repeat(64), running: true, nodeId: 'n1', clusterId: 'cluster-1', known: true } }));
    expect(plan.steps.map((s) => s.id)).toEqual(['copy-bundle', 'install-service', 'restart-agent']);
    expect(plan.steps[0]?.title).toBe('Replace the agent 0.0.9 with 0.1.0');
  });

  it('resumes a run that lost its connection after the agent started: only the join is left', () => {
    const plan = planInstall(input({ skep: { installedVersion: '', bundleSha256: 'a'.repeat(64), running: true, nodeId: '', clusterId: '', known: true } }));
    expect(plan.steps.map((s) => s.id)).toEqual(['join']);
  });

  it.each([
    [{ os: { id: 'alpine', idLike: '', name: 'Alpine Linux v3.20', version: '3.20' } }, 'Alpine Linux v3.20 is not a Debian-like system'],
    [{ architecture: 'armv6l' }, 'the armv6l architecture is not supported'],
    [{ node: { path: '/usr/bin/node', version: 'v12.22.12' } }, 'Node.js v12.22.12 is too old'],
    [{ docker: { present: true, version: '24.0.5', snap: true, reachable: true } }, 'installed as a snap'],
    [{ clockOffsetMs: 95_000 }, 'its clock is 95 s off'],
    [{ reachesManager: false }, "it can't reach the manager at 192.168.1.10:2377"],
  ] as const)('stops before changing anything: %j', (facts, words) => {
    const plan = planInstall(input(facts as Partial<MachineFacts>));
    expect(plan.stop?.code).toBe('PROVISION_UNSUPPORTED');
    expect(plan.stop?.message).toContain(words);
    expect(plan.stop?.message).toContain('Nothing was changed.');
    expect(plan.steps).toEqual([]);
  });

  it('stops a user without sudo with the exact sudoers line', () => {
    const plan = planInstall(input({ sudo: 'none', user: 'alice' }));
    expect(plan.stop?.code).toBe('PROVISION_NO_SUDO');
    expect(plan.stop?.message).toContain('alice ALL=(ALL:ALL) ALL');
    expect(sudoersLine('alice')).toBe('alice ALL=(ALL:ALL) ALL');
  });

  it('installs a missing Node.js only with consent', () => {
    expect(planInstall(input({ node: { path: '', version: '' } })).stop?.code).toBe('PROVISION_NEEDS_CONSENT');
    expect(planInstall(input({ node: { path: '', version: '' } }, { installMissing: true })).steps[0]?.id).toBe('install-node');
  });

  it('installs a missing Docker Engine only with consent; without it the node joins and says it runs no tasks', () => {
    const without = planInstall(input({ docker: { present: false, version: '', snap: false, reachable: false } }));
    expect(without.stop).toBeUndefined();
    expect(without.steps.map((s) => s.id)).not.toContain('install-docker');
    expect(without.notes.join(' ')).toContain('runs no tasks until it is');
    const agreed = planInstall(input({ docker: { present: false, version: '', snap: false, reachable: false } }, { installMissing: true }));
    expect(agreed.steps.map((s) => s.id)).toContain('install-docker');
    expect(planInstall(input({}, { installMissing: true })).steps.map((s) => s.id)).not.toContain('install-docker');
  });

  it('refuses a machine in another swarm', () => {
    const plan = planInstall(input({ skep: { installedVersion: '0.1.0', bundleSha256: 'a'.repeat(64), running: true, nodeId: 'n1', clusterId: 'other', known: true } }));
    expect(plan.stop?.code).toBe('SWARM_EXISTS');
  });
});

describe('facts from the probe\'s output', () => {
  const output = [
    'clock.ms=1700000000500',
    'os.id=debian', 'os.like=', 'os.name=Debian GNU/Linux 12 (bookworm)', 'os.version=12',
    'hostname=nas', 'arch=x86_64', 'kernel=6.1.0-18-amd64', 'cpus=4', 'mem.kb=8000000', 'disk.kb=1000000',
    'init=systemd', 'user=bob', 'uid=1000', 'groups=bob sudo', 'sudo=asks',
    'docker.present=1', 'docker.version=24.0.7', 'node.path=/usr/bin/node', 'node.version=v18.19.0',
    'cgroup.memory=1', 'reach=1', 'garbage line without equals',
  ].join('\n');

  it('reads every field, and a password sudo from the admin group', () => {
    const facts = factsFrom(parseKeyValues(output), undefined, 42);
    expect(facts).toMatchObject({ hostname: 'nas', architecture: 'x86_64', cpus: 4, memoryBytes: 8_000_000 * 1024, init: 'systemd', sudo: 'password', clockOffsetMs: 42, reachesManager: true });
    expect(facts.docker).toEqual({ present: true, version: '24.0.7', snap: false, reachable: false });
    expect(facts.skep.known).toBe(false);
  });

  it('tells root, passwordless sudo and no sudo apart', () => {
    expect(sudoModeOf(new Map([['uid', '0']]))).toBe('root');
    expect(sudoModeOf(new Map([['uid', '1000'], ['sudo', 'nopasswd']]))).toBe('nopasswd');
    expect(sudoModeOf(new Map([['uid', '1000'], ['sudo', 'asks'], ['groups', 'carol users']]))).toBe('none');
    expect(sudoModeOf(new Map([['uid', '1000'], ['sudo', 'absent']]))).toBe('none');
  });
});

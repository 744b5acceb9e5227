// Autolock, as Docker Swarm's: `swarm update --autolock`, `swarm unlock-key [--rotate] [-q]`,
// `swarm unlock` (the key from stdin, never argv), a restarted manager that stays locked and says
// so, a wrong key refused, the previous key still unlocking after a rotation, and autolock off.
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DataKeyMissingError } from '../../electron/raft/storage/cipher.js';
import { skepError } from '../../shared/errors.js';
import { openRaftCopy, readKeyFile } from './at-rest-support.js';
import { Cluster, daemonErrorLine, expectOk, labelAdd, managerCounts, waitUntil, type SkepNode } from './harness.js';

const KEY = /SKEPKEY-1-[A-Za-z0-9+/]{43}/;

function unlockBlock(key: string): string {
  return (
    'To unlock a swarm manager after it restarts, run the `skep swarm unlock`\ncommand and provide the following key:\n\n' +
    `    ${key}\n\n` +
    'Remember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n'
  );
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

function nodeKeyFile(node: SkepNode): string {
  return path.join(node.dataDir, 'swarm', 'certificates', 'node.key');
}

describe('autolock on three managers', () => {
  const cluster = new Cluster({ subnet: 44, heartbeatMs: 500 });
  let m1: SkepNode, m2: SkepNode, m3: SkepNode;
  let firstKey = '';
  let secondKey = '';

  beforeAll(async () => {
    [m1, m2, m3] = (await cluster.add(3)) as [SkepNode, SkepNode, SkepNode];
    await cluster.init(m1);
    await cluster.join(m2, 'manager', m1);
    await cluster.join(m3, 'manager', m1);
    await cluster.waitForNodes(m1, '1 leader, 2 reachable', (nodes) => {
      const c = managerCounts(nodes);
      return c.leaders === 1 && c.reachable === 2;
    });
  }, 120_000);
  afterAll(() => cluster.cleanup(), 60_000);

  /** Restarts a manager from its data directory and waits until it says it is locked. */
  async function restartLocked(node: SkepNode): Promise<void> {
    await node.stop();
    await node.start();
    expect(await node.status()).toEqual({ state: 'locked', nodeId: node.id, clusterId: expect.any(String), role: 'manager', nodeAddr: node.addr });
  }

  test('without autolock there is no unlock key, and none to rotate', async () => {
    expect(await m1.cli('swarm', 'unlock-key')).toEqual({ code: 1, stdout: '', stderr: 'no unlock key is set\n' });
    expect(await m1.cli('swarm', 'unlock-key', '--rotate')).toEqual({ code: 1, stdout: '', stderr: 'cannot rotate because autolock is not turned on\n' });
    expect(await m1.cli('swarm', 'unlock')).toEqual({ code: 1, stdout: '', stderr: 'error: swarm is not locked\n' });
    expect(await m1.cli('swarm', 'update', '--autolock', 'maybe')).toMatchObject({ code: 1, stderr: 'invalid argument "maybe" for "--autolock" flag: strconv.ParseBool: parsing "maybe": invalid syntax\n' });
  });

  test('swarm update --autolock=true prints the key; every manager wraps a new data key and its TLS key with it', async () => {
    const oldDataKeys = await Promise.all([m1, m2, m3].map(async (m) => {
      const file = await readKeyFile(m.dataDir);
      if (!file || file.autolock) throw new Error('expected a clear key file');
      return Buffer.from(file.dataKey, 'base64');
    }));
    const result = expectOk(await m2.cli('swarm', 'update', '--autolock=true'), 'autolock on');
    firstKey = KEY.exec(result.stdout)?.[0] ?? '';
    expect(result.stdout).toBe(`Swarm updated.\n${unlockBlock(firstKey)}`);
    expect(await m1.cli('swarm', 'unlock-key', '-q')).toEqual({ code: 0, stdout: `${firstKey}\n`, stderr: '' });
    expect(await m3.cli('swarm', 'unlock-key')).toEqual({ code: 0, stdout: unlockBlock(firstKey), stderr: '' });
    for (const [i, node] of [m1, m2, m3].entries()) {
      await waitUntil(`${node.name} to lock its keys`, async () => (await readKeyFile(node.dataDir))?.autolock === true && !(await exists(nodeKeyFile(node))));
      // The old data key sat in a clear file: nothing on disk opens with it any more.
      await waitUntil(`${node.name} to reseal under its new data key`, async () => {
        const error = await openRaftCopy(path.join(node.dataDir, 'swarm', 'raft'), oldDataKeys[i]).then(() => undefined, (e: unknown) => e);
        return error instanceof DataKeyMissingError;
      });
    }
    expectOk(await labelAdd(m1, m2.id, 'locked', 'on'), 'a write with autolock on');
  });

  test('a restarted manager stays locked and refuses to serve, with Docker\'s words', async () => {
    await restartLocked(m2);
    const locked = daemonErrorLine(skepError('SWARM_LOCKED').message);
    expect(locked).toBe('Error response from daemon: Swarm is encrypted and needs to be unlocked before it can be used. Please use "skep swarm unlock" to unlock it.\n');
    expect(await m2.cli('node', 'ls')).toEqual({ code: 1, stdout: '', stderr: locked });
    expect(await m2.cli('swarm', 'join-token', 'worker')).toEqual({ code: 1, stdout: '', stderr: locked });
    expect(await m2.cli('swarm', 'leave')).toEqual({
      code: 1,
      stdout: '',
      stderr: daemonErrorLine('Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message.'),
    });
    const status = expectOk(await m2.cli('swarm', 'status'), 'swarm status');
    expect(status.stdout).toContain('Swarm: locked\n');
    // The others see it unreachable: a locked manager takes no part in Raft.
    await cluster.waitForNodes(m1, 'the locked manager unreachable', (nodes) => nodes.find((n) => n.id === m2.id)?.managerStatus?.reachability === 'unreachable');
  });

  test('a wrong key is refused and the manager stays locked', async () => {
    const invalid = { code: 1, stdout: '', stderr: daemonErrorLine('swarm could not be unlocked: invalid key provided') };
    const wrongKey = `SKEPKEY-1-${randomBytes(32).toString('base64').replace(/=+$/, '')}`;
    expect(await m2.cliWith({ stdin: `${wrongKey}\n` }, 'swarm', 'unlock')).toEqual(invalid);
    expect(await m2.cliWith({ stdin: 'not a key\n' }, 'swarm', 'unlock')).toEqual(invalid);
    expect(await m2.cliWith({ stdin: '' }, 'swarm', 'unlock')).toEqual(invalid);
    expect((await m2.status()).state).toBe('locked');
  });

  test('the right key unlocks it: it serves again and catches up', async () => {
    expect(await m2.cliWith({ stdin: `${firstKey}\n` }, 'swarm', 'unlock')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await m2.status()).state).toBe('active');
    await waitUntil('m2 to catch up', async () => (await m2.api((api) => api.nodeInspect(m2.id))).spec.labels.locked === 'on');
    expect(await m2.cli('swarm', 'unlock')).toEqual({ code: 1, stdout: '', stderr: 'error: swarm is not locked\n' });
  });

  test('unlock-key --rotate: a new key; the previous one still unlocks for a while', async () => {
    const rotated = expectOk(await m1.cli('swarm', 'unlock-key', '--rotate'), 'rotate the unlock key');
    secondKey = KEY.exec(rotated.stdout)?.[0] ?? '';
    expect(secondKey).not.toBe(firstKey);
    expect(rotated.stdout).toBe(`Successfully rotated manager unlock key.\n${unlockBlock(secondKey)}`);
    expect((await m3.cli('swarm', 'unlock-key', '-q')).stdout).toBe(`${secondKey}\n`);
    for (const node of [m2, m3]) {
      await waitUntil(`${node.name} to wrap with both keys`, async () => {
        const file = await readKeyFile(node.dataDir);
        return file?.autolock === true && file.wraps.length === 2;
      });
    }
    await restartLocked(m2);
    expect(await m2.cliWith({ stdin: `${firstKey}\n` }, 'swarm', 'unlock')).toEqual({ code: 0, stdout: '', stderr: '' });
    await restartLocked(m3);
    expect(await m3.cliWith({ stdin: `${secondKey}\n` }, 'swarm', 'unlock')).toEqual({ code: 0, stdout: '', stderr: '' });
    await cluster.waitForNodes(m1, 'all three managers reachable again', (nodes) => managerCounts(nodes).reachable === 2);
    expectOk(await labelAdd(m3, m3.id, 'after', 'rotation'), 'a write through a manager unlocked with the new key');
  });

  test('swarm update --autolock=false: keys in clear files again, a restart needs no key', async () => {
    expect(await m3.cli('swarm', 'update', '--autolock=false')).toEqual({ code: 0, stdout: 'Swarm updated.\n', stderr: '' });
    expect(await m1.cli('swarm', 'unlock-key')).toEqual({ code: 1, stdout: '', stderr: 'no unlock key is set\n' });
    for (const node of [m1, m2, m3]) {
      await waitUntil(`${node.name} to unwrap its keys`, async () => (await readKeyFile(node.dataDir))?.autolock === false && (await exists(nodeKeyFile(node))));
    }
    await m2.stop();
    await m2.start();
    await waitUntil('m2 active without a key', async () => (await m2.status()).state === 'active');
    await waitUntil('m2 serving', async () => (await m2.api((api) => api.nodeInspect(m3.id))).spec.labels.after === 'rotation');
  });
});

describe('swarm init --autolock', () => {
  const cluster = new Cluster({ subnet: 44, heartbeatMs: 500, port: 2577 });
  let m1: SkepNode;

  beforeAll(async () => {
    [m1] = (await cluster.add(1)) as [SkepNode];
  }, 60_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('prints the key block after the usual output; a restart is locked until unlocked', async () => {
    expect(await m1.cli('swarm', 'unlock')).toEqual({ code: 1, stdout: '', stderr: 'error: this node is not part of a swarm\n' });
    const result = expectOk(await m1.cli('swarm', 'init', '--autolock', '--listen-addr', m1.addr), 'init --autolock');
    const key = KEY.exec(result.stdout)?.[0] ?? '';
    m1.id = /current node \(([0-9a-z]+)\)/.exec(result.stdout)?.[1] ?? '';
    expect(result.stdout).toMatch(/^Swarm initialized: current node \([0-9a-z]+\) is now a manager\.\n\nTo add a worker to this swarm, run the following command:\n\n {4}skep swarm join --token SKEP-1-\S+ \S+\n\n/);
    expect(result.stdout.endsWith(`To add a manager to this swarm, run 'skep swarm join-token manager' and follow the instructions.\n${unlockBlock(key)}`)).toBe(true);
    expect(await exists(nodeKeyFile(m1))).toBe(false);
    expectOk(await labelAdd(m1, m1.id, 'init', 'autolock'), 'a write');
    await m1.stop();
    await m1.start();
    expect((await m1.status()).state).toBe('locked');
    expect(await m1.cliWith({ stdin: `${key}\n` }, 'swarm', 'unlock')).toEqual({ code: 0, stdout: '', stderr: '' });
    await waitUntil('the one manager to lead again', async () => (await m1.status()).state === 'active' && (await m1.api((api) => api.nodeInspect(m1.id))).spec.labels.init === 'autolock');
  }, 120_000);
});

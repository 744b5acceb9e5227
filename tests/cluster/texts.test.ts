// Scenario 4: every refusal the CLI prints, exactly as the error catalog words it (Docker's texts).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skepError } from '../../shared/errors.js';
import { Cluster, daemonErrorLine, expectOk, managerCounts, runCli, waitUntil, type CliResult, type SkepNode } from './harness.js';

function refused(result: CliResult, error: Error): void {
  expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }).toEqual({ code: 1, stderr: daemonErrorLine(error.message), stdout: '' });
}

describe('every CLI refusal, word for word', () => {
  const cluster = new Cluster({ subnet: 32, heartbeatMs: 500 });
  let m1: SkepNode, m2: SkepNode, m3: SkepNode, w1: SkepNode, spare: SkepNode;

  beforeAll(async () => {
    [m1, m2, m3, w1, spare] = (await cluster.add(5)) as [SkepNode, SkepNode, SkepNode, SkepNode, SkepNode];
  }, 120_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('daemon unreachable: a CLI pointed at a socket with no daemon says so and how to start one', async () => {
    const address = `unix://${path.join(cluster.root, 'nobody-here.sock')}`;
    const result = await runCli(address, ['node', 'ls']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: skepError('DAEMON_UNREACHABLE', address).message + '\n' });
  });

  test('not part of a swarm: leave on a node that never joined', async () => {
    refused(await spare.cli('swarm', 'leave'), skepError('NOT_IN_SWARM'));
    refused(await spare.cli('swarm', 'leave', '--force'), skepError('NOT_IN_SWARM'));
  });

  test('manager commands on a node outside any swarm say how to get into one', async () => {
    for (const args of [['node', 'ls'], ['swarm', 'join-token', 'worker']]) {
      refused(await spare.cli(...args), skepError('NOT_A_MANAGER_NO_SWARM'));
    }
    // inspect prints what it found first, as Docker's does: nothing, "[]".
    expect(await spare.cli('node', 'inspect', 'self')).toEqual({ code: 1, stdout: '[]\n', stderr: daemonErrorLine(skepError('NOT_A_MANAGER_NO_SWARM').message) });
  });

  test('already part of a swarm: init twice', async () => {
    await cluster.init(m1);
    refused(await m1.cli('swarm', 'init', '--listen-addr', m1.addr), skepError('SWARM_EXISTS'));
  });

  test('a cluster port already in use is named, and the node stays out of any swarm', async () => {
    refused(
      await spare.cli('swarm', 'init', '--listen-addr', m1.addr),
      skepError('LISTEN_FAILED', m1.addr, 'the address is already in use (another Skep node, or a Docker swarm manager on the same port?)'),
    );
    expect(await spare.status()).toEqual({ state: 'inactive' });
  });

  test('the last manager: leave is refused (force would erase the swarm), demote is refused', async () => {
    refused(await m1.cli('swarm', 'leave'), skepError('LEAVE_LAST_MANAGER'));
    refused(await m1.cli('node', 'demote', m1.id), skepError('DEMOTE_LAST_MANAGER'));
    // Still a healthy one-manager swarm.
    expect(await m1.status()).toMatchObject({ state: 'active', managers: 1, leaderId: m1.id });
  });

  test('invalid join token (malformed), and a well-formed token with a wrong secret', async () => {
    const good = await cluster.token(m1, 'worker');
    const before = (await m1.nodes()).length;
    for (const malformed of ['SKEP-1-abc-def', 'not-a-token', good.slice(0, -1), good.toUpperCase(), `${good}x`]) {
      refused(await spare.cli('swarm', 'join', '--token', malformed, '--listen-addr', spare.addr, m1.addr), skepError('INVALID_JOIN_TOKEN'));
    }
    const secret = good.slice(-25);
    const wrongSecret = good.slice(0, -25) + (secret[0] === '1' ? '2' : '1') + secret.slice(1);
    refused(await cluster.joinWith(spare, wrongSecret, m1), skepError('JOIN_TOKEN_REJECTED'));
    // Neither attempt made the node part of anything.
    expect(await spare.status()).toEqual({ state: 'inactive' });
    expect(await m1.nodes()).toHaveLength(before);
  });

  test('already part of a swarm: join and init on a worker', async () => {
    await cluster.join(w1, 'worker', m1);
    const token = await cluster.token(m1, 'worker');
    refused(await cluster.joinWith(w1, token, m1), skepError('SWARM_EXISTS'));
    refused(await w1.cli('swarm', 'init', '--listen-addr', w1.addr), skepError('SWARM_EXISTS'));
  });

  test('removing a manager is refused, with or without --force', async () => {
    await cluster.join(m2, 'manager', m1);
    await cluster.join(m3, 'manager', m1);
    await cluster.waitForNodes(m1, '3 reachable managers', (nodes) => {
      const c = managerCounts(nodes);
      return c.leaders === 1 && c.reachable === 2;
    });
    refused(await m1.cli('node', 'rm', m2.id), skepError('REMOVE_MANAGER', m2.id));
    refused(await m1.cli('node', 'rm', '--force', m2.id), skepError('REMOVE_MANAGER', m2.id));
    expect((await m1.nodes()).map((n) => n.id)).toContain(m2.id);
  });

  test('removing a node that is not down is refused; --force overrides', async () => {
    await cluster.waitForNodes(m1, `${w1.name} Ready`, (nodes) => nodes.some((n) => n.id === w1.id && n.status.state === 'ready'));
    refused(await m1.cli('node', 'rm', w1.id), skepError('REMOVE_NODE_NOT_DOWN', w1.id));
    expect((await m1.nodes()).map((n) => n.id)).toContain(w1.id);
    const forced = expectOk(await m1.cli('node', 'rm', '--force', w1.id), 'node rm --force');
    expect(forced.stdout).toBe(`${w1.id}\n`);
    expect((await m1.nodes()).map((n) => n.id)).not.toContain(w1.id);
  });

  test('leaving when it would lose quorum: "leaves 1 managers out of 3" once another manager is stopped', async () => {
    const leader = await cluster.waitForLeader([m1, m2, m3]);
    const [stopped, other] = [m1, m2, m3].filter((m) => m !== leader) as [SkepNode, SkepNode];
    await stopped.stop();
    await waitUntil(`the leader to see ${stopped.name} unreachable`, async () => {
      const status = await leader.status();
      return status.state === 'active' && status.managers === 3 && status.reachableManagers === 2;
    });
    refused(await leader.cli('swarm', 'leave'), skepError('LEAVE_LOSES_QUORUM', 1, 3));
    // A follower that sees the same says the same.
    await waitUntil(`${other.name} to see ${stopped.name} unreachable`, async () => {
      const status = await other.status();
      return status.state === 'active' && status.reachableManagers === 2;
    });
    refused(await other.cli('swarm', 'leave'), skepError('LEAVE_LOSES_QUORUM', 1, 3));
    // Nothing left: both are still managers of the swarm.
    expect(await leader.status()).toMatchObject({ state: 'active', role: 'manager', managers: 3 });
    expect(await other.status()).toMatchObject({ state: 'active', role: 'manager', managers: 3 });
  });

  test('demoting a manager when that would lose quorum is refused', async () => {
    const leader = await cluster.waitForLeader([m1, m2, m3]);
    const other = [m1, m2, m3].find((m) => m !== leader && m.running) as SkepNode;
    refused(await leader.cli('node', 'demote', other.id), skepError('DEMOTE_LOSES_QUORUM'));
  });
});

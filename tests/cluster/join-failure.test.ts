// Issue 11, items 1, 2, 3 and 8 against real daemons: a join that fails leaves no ghost node on the
// manager (it checks its listen port before asking; a registration whose join never completes is
// removed), init and join refuse addresses that can't work with Docker's words, errors show no
// internals, and the CLI tells fault tolerance before → after when the manager count changes.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SkepError, skepError } from '../../shared/errors.js';
import { joinCluster } from '../../electron/swarm/ca/join.js';
import { Cluster, daemonErrorLine, expectOk, waitUntil, type SkepNode } from './harness.js';

const SUBNET = 45;

async function refusalOf(promise: Promise<unknown>): Promise<SkepError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SkepError);
  return error as SkepError;
}

describe('joins that fail, addresses that cannot work, and what the CLI says', () => {
  const cluster = new Cluster({ subnet: SUBNET, heartbeatMs: 500 });
  let manager: SkepNode, joiner: SkepNode;
  const listeners: (net.Server | http.Server)[] = [];

  beforeAll(async () => {
    [manager, joiner] = (await cluster.add(2)) as [SkepNode, SkepNode];
    await cluster.init(manager);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(listeners.map((server) => new Promise((resolve) => server.close(resolve))));
    await cluster.cleanup();
  }, 60_000);

  test('a join whose listen port is taken fails on the joining machine, and the manager never hears of it', async () => {
    const squatter = net.createServer();
    listeners.push(squatter);
    await new Promise<void>((resolve) => squatter.listen(joiner.port, joiner.ip, resolve));
    const token = await cluster.token(manager, 'worker');
    const result = await cluster.joinWith(joiner, token, manager);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(daemonErrorLine(skepError('LISTEN_FAILED', joiner.addr, 'the address is already in use (another Skep node, or a Docker swarm manager on the same port?)').message));
    expect((await joiner.status()).state).toBe('inactive');
    // No registration, not even a short-lived one: only the manager is in the swarm.
    const nodes = await manager.nodes();
    expect(nodes.map((n) => n.id)).toEqual([manager.id]);
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
    listeners.splice(listeners.indexOf(squatter), 1);
  });

  test('a registration whose join never completes (no first heartbeat) is removed, never shown Down', async () => {
    const token = await cluster.token(manager, 'worker');
    // Take a certificate as a joining node would, then never start: no heartbeat ever comes.
    const joined = await joinCluster({ address: manager.addr, token, timeoutMs: 10_000 });
    const pending = (await manager.nodes()).find((n) => n.id === joined.nodeId);
    expect(pending?.status.state).toBe('unknown');
    await waitUntil('the abandoned registration to be removed', async () => {
      const nodes = await manager.nodes();
      const ghost = nodes.find((n) => n.id === joined.nodeId);
      // Until it is removed it stays "joining", never a Down node with no hostname.
      if (ghost) expect(ghost.status.state).toBe('unknown');
      return ghost === undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect((await manager.nodes()).map((n) => n.id)).toEqual([manager.id]);
  }, 90_000);

  test('init refuses addresses that cannot work, in the CLI and in the daemon, with Docker\'s words', async () => {
    const cases = [
      ['--advertise-addr', '999.1.1.1', skepError('ADVERTISE_ADDR_INVALID').message],
      ['--advertise-addr', 'http://foo bar/', skepError('ADDR_PROTO', 'http://foo bar/').message],
      ['--listen-addr', `${joiner.ip}:70000`, skepError('ADDR_PORT_INVALID', `${joiner.ip}:70000`).message],
      ['--listen-addr', 'nosuchhost.invalid:2377', skepError('LISTEN_ADDR_INVALID').message],
    ] as const;
    for (const [flag, value, text] of cases) {
      const result = await joiner.cli('swarm', 'init', flag, value);
      expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }, `${flag} ${value}`).toEqual({ code: 1, stdout: '', stderr: `${text}\n` });
    }
    // A client that skips the CLI gets the same refusal from the daemon, naming the field.
    const error = await refusalOf(joiner.api((api) => api.swarmInit({ listenAddr: 'nosuchhost.invalid:2377' })));
    expect(error.code).toBe('LISTEN_ADDR_INVALID');
    expect(error.message).not.toMatch(/getaddrinfo|ENOTFOUND/);
    expect(error.details).toEqual({ field: 'listenAddr' });
    const advertise = await refusalOf(joiner.api((api) => api.swarmInit({ listenAddr: joiner.addr, advertiseAddr: '999.1.1.1' })));
    expect(advertise.details).toEqual({ field: 'advertiseAddr' });
    expect((await joiner.status()).state).toBe('inactive');
  });

  test('a join aimed at an HTTP port says it is not a Skep manager, without OpenSSL\'s words', async () => {
    const web = http.createServer((_request, response) => response.end('hello'));
    listeners.push(web);
    await new Promise<void>((resolve) => web.listen(8080, `127.0.${SUBNET}.9`, resolve));
    const token = await cluster.token(manager, 'worker');
    const result = await joiner.cliWith({ stdin: token }, 'swarm', 'join', '--token-stdin', '--listen-addr', joiner.addr, `127.0.${SUBNET}.9:8080`);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(daemonErrorLine(skepError('JOIN_NOT_A_MANAGER', `127.0.${SUBNET}.9:8080`).message));
    expect(result.stderr).not.toMatch(/SSL|routines|EPROTO/);
    expect((await manager.nodes()).map((n) => n.id)).toEqual([manager.id]);
  });

  test('an empty label key is refused in the catalog\'s words, not the schema\'s', async () => {
    const error = await refusalOf(manager.api((api) => api.nodeUpdate(manager.id, { labelAdd: { '': 'x' } })));
    expect(error.code).toBe('LABEL_EMPTY_KEY');
    expect(error.message).toBe("invalid label '=x': empty name");
  });

  test('promote and demote tell fault tolerance before → after; removing the only manager says so', async () => {
    await cluster.join(joiner, 'worker', manager);
    await waitUntil('the worker to be ready', async () => (await manager.nodes()).find((n) => n.id === joiner.id)?.status.state === 'ready');
    const promoted = expectOk(await manager.cli('node', 'promote', joiner.id), 'promote');
    expect(promoted.stdout).toBe(`Node ${joiner.id} promoted to a manager in the swarm.\n`);
    expect(promoted.stderr).toBe(
      'Fault tolerance: 1 manager, can lose none → 2 managers, can lose none.\n' +
        'WARNING: An even number of managers adds load without adding fault tolerance: 2 managers can lose none, as 1 can. Use an odd number (3 or 5).\n',
    );
    await waitUntil('two managers', async () => {
      const status = await manager.status();
      return status.state === 'active' && status.managers === 2 && status.reachableManagers === 2;
    });
    // Joining with the manager token would make 3: the token's instructions say so.
    const tokenHelp = expectOk(await manager.cli('swarm', 'join-token', 'manager'), 'join-token manager');
    expect(tokenHelp.stderr).toBe("Each manager that joins changes the swarm's fault tolerance. Fault tolerance: 2 managers, can lose none → 3 managers, can lose 1.\n");
    const demoted = expectOk(await manager.cli('node', 'demote', joiner.id), 'demote');
    expect(demoted.stdout).toBe(`Manager ${joiner.id} demoted in the swarm.\n`);
    expect(demoted.stderr).toBe('Fault tolerance: 2 managers, can lose none → 1 manager, can lose none.\n');
    await waitUntil('one manager again', async () => {
      const status = await manager.status();
      return status.state === 'active' && status.managers === 1;
    });
    const removeSelf = await manager.cli('node', 'rm', '--force', manager.id);
    expect({ code: removeSelf.code, stderr: removeSelf.stderr }).toEqual({ code: 1, stderr: daemonErrorLine(skepError('REMOVE_LAST_MANAGER', manager.id).message) });
  }, 90_000);
});

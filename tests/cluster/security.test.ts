// Scenario 5: token rotation, a token from another swarm, a removed node, garbage on the cluster port.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skepError } from '../../shared/errors.js';
import { caDigestHex } from '../../electron/swarm/ca/tokens.js';
import { Cluster, daemonErrorLine, expectOk, labelAdd, sleep, waitUntil, type CliResult, type SkepNode } from './harness.js';

function refused(result: CliResult, error: Error): void {
  expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }).toEqual({ code: 1, stderr: daemonErrorLine(error.message), stdout: '' });
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

const WRONG_TOKEN_LOG = 'join: refused a join with a wrong token';

describe('tokens, removed nodes and hostile connections', () => {
  const cluster = new Cluster({ subnet: 34, heartbeatMs: 500 });
  let m1: SkepNode, w1: SkepNode, w2: SkepNode, w3: SkepNode, other: SkepNode;

  beforeAll(async () => {
    [m1, w1, w2, w3, other] = (await cluster.add(5)) as [SkepNode, SkepNode, SkepNode, SkepNode, SkepNode];
    await cluster.init(m1);
  }, 120_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('rotating the worker token: the old one is refused, the new one works, the manager token is unchanged', async () => {
    const oldWorker = await cluster.token(m1, 'worker');
    const manager = await cluster.token(m1, 'manager');
    expectOk(await cluster.joinWith(w1, oldWorker, m1), 'join with the worker token');
    w1.id = ((await w1.status()) as { nodeId: string }).nodeId;

    const rotated = expectOk(await m1.cli('swarm', 'join-token', '--rotate', 'worker'), 'join-token --rotate worker').stdout;
    const newWorker = await cluster.token(m1, 'worker');
    expect(newWorker).not.toBe(oldWorker);
    expect(newWorker.slice(0, -25)).toBe(oldWorker.slice(0, -25)); // same CA digest, new secret
    expect(rotated).toBe(
      ['Successfully rotated worker join token.', '', 'To add a worker to this swarm, run the following command:', '', `    skep swarm join --token ${newWorker} ${m1.addr}`, ''].join('\n'),
    );
    expect(await cluster.token(m1, 'manager')).toBe(manager);

    const nodesBefore = (await m1.nodes()).length;
    refused(await cluster.joinWith(w2, oldWorker, m1), skepError('JOIN_TOKEN_REJECTED'));
    expect(await w2.status()).toEqual({ state: 'inactive' });
    expect(await m1.nodes()).toHaveLength(nodesBefore);
    expectOk(await cluster.joinWith(w2, newWorker, m1), 'join with the rotated token');
    w2.id = ((await w2.status()) as { nodeId: string }).nodeId;
    await cluster.waitForNodes(m1, 'the new worker Ready', (nodes) => nodes.some((n) => n.id === w2.id && n.status.state === 'ready'));
  });

  test('a token whose CA digest is another swarm\'s is refused before the secret is sent, and nothing is registered', async () => {
    await cluster.init(other);
    const foreign = await cluster.token(other, 'worker');
    const ours = await cluster.token(m1, 'worker');
    const foreignDigest = foreign.slice('SKEP-1-'.length, -26);
    const expected = skepError('CA_DIGEST_MISMATCH', caDigestHex(foreignDigest));
    const nodesBefore = (await m1.nodes()).map((n) => n.id).sort();
    const wrongTokenLogs = count(m1.logs(), WRONG_TOKEN_LOG);

    // The other swarm's whole token, and — the sharper case — its CA digest with our real secret: if the
    // secret were sent before the CA was checked, m1 would accept the second one.
    refused(await cluster.joinWith(w3, foreign, m1), expected);
    refused(await cluster.joinWith(w3, `SKEP-1-${foreignDigest}-${ours.slice(-25)}`, m1), expected);

    expect(await w3.status()).toEqual({ state: 'inactive' });
    expect((await m1.nodes()).map((n) => n.id).sort()).toEqual(nodesBefore);
    await sleep(300);
    expect(count(m1.logs(), WRONG_TOKEN_LOG), 'm1 never received a secret to compare').toBe(wrongTokenLogs);
    expect(m1.logs()).not.toContain(ours.slice(-25));
    expect(m1.logs()).not.toContain(foreign.slice(-25));
  });

  test('a removed node is told so, stops for good and says why; it never shows up again', async () => {
    await cluster.waitForNodes(m1, `${w1.name} Ready`, (nodes) => nodes.some((n) => n.id === w1.id && n.status.state === 'ready'));
    expectOk(await m1.cli('node', 'rm', '--force', w1.id), 'node rm --force of a live worker');
    const removed = skepError('NODE_REMOVED');
    // The manager cuts its connection with a last word; the node stops its session and keeps saying why.
    await waitUntil('the removed node to say it was removed', async () => {
      const status = await w1.status();
      return status.state === 'active' && status.failure?.code === 'NODE_REMOVED';
    });
    expect(await w1.status()).toMatchObject({ state: 'active', failure: { code: 'NODE_REMOVED', message: removed.message, recovering: false } });
    const deadline = Date.now() + 5000; // ten heartbeat periods
    while (Date.now() < deadline) {
      expect((await m1.nodes()).map((n) => n.id)).not.toContain(w1.id);
      await sleep(250);
    }
    // Docker's inspect prints an empty list before the error.
    const inspect = await m1.cli('node', 'inspect', w1.id);
    expect({ code: inspect.code, stderr: inspect.stderr, stdout: inspect.stdout }).toEqual({ code: 1, stderr: daemonErrorLine(skepError('NODE_NOT_FOUND', w1.id).message), stdout: '[]\n' });
    expect(w1.running).toBe(true);
    // It survives a restart in that state, and `swarm leave` cleans it up.
    await w1.stop();
    await w1.start();
    expect(await w1.status()).toMatchObject({ failure: { code: 'NODE_REMOVED' } });
    expectOk(await w1.cli('swarm', 'leave'), 'leave after removal');
    expect(await w1.status()).toEqual({ state: 'inactive' });
  });

  test('garbage bytes and half-open connections on the cluster port leave the node running', async () => {
    const sockets: net.Socket[] = [];
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const socket = net.connect({ host: m1.ip, port: m1.port });
        socket.on('error', () => undefined);
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
        sockets.push(socket);
      });
    try {
      // Junk of several shapes: random bytes, an HTTP request, a TLS record header claiming a huge length.
      for (const junk of [randomBytes(4096), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01]), randomBytes(1 << 20)]) {
        const socket = await open();
        socket.write(junk);
      }
      // Half-open: connected, nothing sent; and one that sends half a TLS record and stalls; and one half-closed.
      for (let i = 0; i < 20; i++) await open();
      (await open()).write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
      (await open()).end();
      await sleep(1000);

      expect(m1.running).toBe(true);
      expectOk(await labelAdd(m1, m1.id, 'after-garbage', 'yes'), 'a write while junk connections are open');
      const nodes = await m1.nodes();
      expect(nodes.find((n) => n.id === m1.id)?.spec.labels['after-garbage']).toBe('yes');
      // The worker's heartbeats still get through.
      await cluster.waitForNodes(m1, `${w2.name} Ready`, (list) => list.some((n) => n.id === w2.id && n.status.state === 'ready'));
      // A node can still join while all that is open.
      expectOk(await cluster.joinWith(w3, await cluster.token(m1, 'worker'), m1), 'a join while junk connections are open');
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    await sleep(500);
    expect(m1.running).toBe(true);
    expect(await m1.status()).toMatchObject({ state: 'active', leaderId: m1.id });
  });
});

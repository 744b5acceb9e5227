// Scenarios 2, 3 and 6 on three managers with the default timings (Raft tick 100 ms, heartbeats 2 s):
//  - kill -9 the leader: a new leader, label writes succeed again (the failover time is printed); the old
//    leader restarts from its data directory and is Reachable again;
//  - nothing acknowledged is lost: a client keeps writing labels through a kill -9 and restart of the leader;
//  - SIGSTOP/SIGCONT a manager; stop two of three: a write fails fast with the no-leader error; restart: heals.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skepError } from '../../shared/errors.js';
import { Cluster, daemonErrorLine, expectOk, labelAdd, managerCounts, sleep, waitUntil, type SkepNode } from './harness.js';

/** Healthy: one leader all agree on, the other managers Reachable, every node (the worker too) Ready. */
async function waitHealthy(cluster: Cluster, managers: readonly SkepNode[], timeoutMs = 30_000): Promise<SkepNode> {
  const leader = await cluster.waitForLeader(managers, timeoutMs);
  await cluster.waitForNodes(leader, '1 leader, 2 reachable, all ready', (nodes) => {
    const c = managerCounts(nodes);
    return c.leaders === 1 && c.reachable === managers.length - 1 && c.ready === nodes.length;
  }, timeoutMs);
  return leader;
}

/**
 * Kill → first successful write, measured through the control sockets: an attempt starts every 50 ms,
 * alternating between the surviving managers, until one succeeds.
 */
async function measureFailover(survivors: readonly SkepNode[], target: string, key: string, killedAt: number): Promise<number> {
  let succeededAt: number | undefined;
  const attempts: Promise<void>[] = [];
  for (let i = 0; succeededAt === undefined; i++) {
    if (Date.now() - killedAt > 60_000) throw new Error('no write succeeded within 60 s of the kill');
    const via = survivors[i % survivors.length] as SkepNode;
    attempts.push(
      via.api((api) => api.nodeUpdate(target, { labelAdd: { [key]: String(i) } })).then(
        () => void (succeededAt ??= Date.now()),
        () => undefined,
      ),
    );
    await sleep(50);
  }
  await Promise.all(attempts);
  return succeededAt - killedAt;
}

/**
 * `writers` loops writing through whichever managers answer, round robin, until stopped; every
 * write whose `write` returned a key/value counts as acknowledged.
 */
function keepWriting(
  managers: readonly SkepNode[],
  writers: number,
  idleMs: number,
  write: (via: SkepNode, i: number) => Promise<[string, string] | undefined>,
): { acked: Map<string, string>; attempted: () => number; stop: () => Promise<void> } {
  const acked = new Map<string, string>();
  let attempted = 0;
  let stopped = false;
  let n = 0;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const i = n++;
      const candidates = managers.filter((m) => m.responsive);
      const via = candidates[i % candidates.length];
      if (!via) {
        await sleep(idleMs);
        continue;
      }
      attempted++;
      const done = await write(via, i);
      if (done) acked.set(done[0], done[1]);
    }
  };
  const running = Array.from({ length: writers }, () => loop());
  return {
    acked,
    attempted: () => attempted,
    stop: async () => {
      stopped = true;
      await Promise.all(running);
    },
  };
}

describe('failover, quorum loss and durability with three managers', () => {
  const cluster = new Cluster({ subnet: 33 });
  let managers: SkepNode[] = [];
  let worker: SkepNode;

  beforeAll(async () => {
    managers = await cluster.add(3);
    [worker] = (await cluster.add(1)) as [SkepNode];
    const [m1, m2, m3] = managers as [SkepNode, SkepNode, SkepNode];
    await cluster.init(m1);
    await cluster.join(m2, 'manager', m1);
    await cluster.join(m3, 'manager', m1);
    await cluster.join(worker, 'worker', m1);
    await waitHealthy(cluster, managers);
  }, 120_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('kill -9 the leader: a new leader takes writes; the old leader restarts and is Reachable again', async () => {
    const old = await waitHealthy(cluster, managers);
    const survivors = managers.filter((m) => m !== old);
    const target = (survivors[0] as SkepNode).id;
    expectOk(await labelAdd(old, target, 'before', 'kill'), 'a write before the kill');

    const killedAt = Date.now();
    await old.kill9();
    const failoverMs = await measureFailover(survivors, target, 'failover', killedAt);
    console.log(`failover: kill -9 of the leader → first successful write: ${failoverMs} ms`);

    const leader = await cluster.waitForLeader(survivors);
    expect(survivors).toContain(leader);
    for (const via of survivors) expectOk(await labelAdd(via, target, `after-kill-via-${via.name}`, 'ok'), `a write through ${via.name}`);
    // The dead manager is Unreachable at once (Raft's view) and Down after 3 missed heartbeats (2 s each).
    // The worker follows the new leader by itself: it stays Ready past the new leader's grace period.
    await cluster.waitForNodes(leader, 'the killed leader Unreachable and Down, the worker Ready', (nodes) => {
      const dead = nodes.find((n) => n.id === old.id);
      return dead?.managerStatus?.reachability === 'unreachable' && dead.status.state === 'down' && nodes.find((n) => n.id === worker.id)?.status.state === 'ready';
    });
    const table = expectOk(await leader.cli('node', 'ls'), 'node ls with a dead manager').stdout;
    expect(table).toMatch(new RegExp(`^${old.id}\\s+\\S+\\s+Down\\s+Active\\s+Unreachable\\s`, 'm'));

    await old.start();
    const healed = await waitHealthy(cluster, managers);
    const nodes = await healed.nodes();
    const restarted = nodes.find((n) => n.id === old.id);
    expect(restarted?.managerStatus?.reachability).toBe('reachable');
    expect(restarted?.status.state).toBe('ready');
    // The restarted node serves the writes made while it was dead.
    const seen = await waitUntil('the restarted node to have caught up', async () => {
      const labels = (await old.api((api) => api.nodeInspect(target))).spec.labels;
      return labels[`after-kill-via-${survivors[1]?.name}`] === 'ok' ? labels : undefined;
    });
    expect(seen).toMatchObject({ before: 'kill', [`after-kill-via-${survivors[0]?.name}`]: 'ok' });
    const ownTable = expectOk(await old.cli('node', 'ls'), 'node ls on the restarted node').stdout;
    expect(ownTable).toMatch(new RegExp(`^${old.id} \\*\\s+\\S+\\s+Ready\\s+Active\\s+(Leader|Reachable)\\s`, 'm'));
  });

  test('nothing acknowledged is lost: labels written through a kill -9 and restart of the leader', async () => {
    const old = await waitHealthy(cluster, managers);
    const target = old.id;
    const writing = keepWriting(managers, 3, 50, async (via, i) => {
      const key = `k${i}`;
      const result = await labelAdd(via, target, key, `v${i}`);
      return result.code === 0 ? [key, `v${i}`] : undefined;
    });
    const acked = writing.acked;
    const ackedAfter = async (count: number, what: string): Promise<void> => {
      const base = acked.size;
      await waitUntil(what, () => acked.size >= base + count, { timeoutMs: 60_000 });
    };

    await ackedAfter(5, 'writes before the kill');
    await old.kill9();
    await ackedAfter(5, 'writes after the kill');
    await old.start();
    await waitHealthy(cluster, managers, 60_000);
    await ackedAfter(5, 'writes after the restart');
    await writing.stop();
    console.log(`durability: ${writing.attempted()} label writes attempted, ${acked.size} acknowledged`);

    for (const m of managers) {
      const inspected = JSON.parse(expectOk(await m.cli('node', 'inspect', target), `node inspect on ${m.name}`).stdout) as { Spec: { Labels: Record<string, string> } }[];
      const labels = inspected[0]?.Spec.Labels ?? {};
      const missing = [...acked].filter(([k, v]) => labels[k] !== v).map(([k]) => k);
      expect(missing, `acknowledged labels missing on ${m.name}`).toEqual([]);
    }
  });

  test('nothing acknowledged is lost: API writers at full speed while every manager is killed -9 at once and restarted', async () => {
    const leader = await waitHealthy(cluster, managers);
    const target = managers.find((m) => m !== leader)?.id as string;
    const writing = keepWriting(managers, 8, 20, async (via, i) => {
      try {
        await via.api((api) => api.nodeUpdate(target, { labelAdd: { [`a${i}`]: `v${i}` } }));
        return [`a${i}`, `v${i}`];
      } catch {
        await sleep(20); // refused or connection lost: not acknowledged
        return undefined;
      }
    });
    const acked = writing.acked;
    await waitUntil('50 acknowledged writes', () => acked.size >= 50, { timeoutMs: 60_000 });
    await Promise.all(managers.map((m) => m.kill9()));
    const ackedAtKill = acked.size;
    await Promise.all(managers.map((m) => m.start()));
    await waitHealthy(cluster, managers, 60_000);
    await waitUntil('more acknowledged writes after the restart', () => acked.size >= ackedAtKill + 20, { timeoutMs: 60_000 });
    await writing.stop();
    console.log(`durability (all managers killed): ${writing.attempted()} writes attempted, ${acked.size} acknowledged, ${ackedAtKill} before the kill`);

    for (const m of managers) {
      const labels = (await m.api(async (api) => {
        await api.nodeList(); // a read barrier on this manager
        return api.nodeInspect(target);
      })).spec.labels;
      const missing = [...acked].filter(([k, v]) => labels[k] !== v).map(([k]) => k);
      expect(missing, `acknowledged labels missing on ${m.name}`).toEqual([]);
    }
  });

  test('SIGSTOP a manager, then SIGCONT: the swarm carries on and takes it back', async () => {
    const leader = await waitHealthy(cluster, managers);
    const others = managers.filter((m) => m !== leader);
    leader.pause();
    try {
      const next = await cluster.waitForLeader(others);
      expect(others).toContain(next);
      await cluster.waitForNodes(next, 'the stopped manager Unreachable', (nodes) => nodes.find((n) => n.id === leader.id)?.managerStatus?.reachability === 'unreachable');
      for (const via of others) expectOk(await labelAdd(via, leader.id, `while-stopped-${via.name}`, 'yes'), `a write through ${via.name} while the leader is stopped`);
    } finally {
      leader.resume();
    }
    await waitHealthy(cluster, managers);
    expectOk(await labelAdd(leader, leader.id, 'after-sigcont', 'yes'), 'a write through the resumed manager');
    const labels = (await leader.api((api) => api.nodeInspect(leader.id))).spec.labels;
    expect(labels).toMatchObject({ [`while-stopped-${others[0]?.name}`]: 'yes', [`while-stopped-${others[1]?.name}`]: 'yes', 'after-sigcont': 'yes' });
  });

  test('a follower that sleeps (SIGSTOP) and wakes does not disrupt a healthy group', async () => {
    const leader = await waitHealthy(cluster, managers);
    const before = await leader.status();
    const term = before.state === 'active' ? before.raft?.term : undefined;
    const sleeper = managers.find((m) => m !== leader) as SkepNode;
    sleeper.pause();
    try {
      await cluster.waitForNodes(leader, 'the sleeping follower Unreachable', (nodes) => nodes.find((n) => n.id === sleeper.id)?.managerStatus?.reachability === 'unreachable');
      await sleep(3000); // well past its election timeout (1–2 s)
      expectOk(await labelAdd(leader, sleeper.id, 'while-asleep', 'yes'), 'a write while a follower sleeps');
    } finally {
      sleeper.resume();
    }
    await waitHealthy(cluster, managers);
    await sleep(2000);
    expect(await cluster.waitForLeader(managers)).toBe(leader);
    const after = await leader.status();
    expect(after.state === 'active' ? after.raft?.term : undefined, 'the term did not move').toBe(term);
    expect((await sleeper.api((api) => api.nodeInspect(sleeper.id))).spec.labels['while-asleep']).toBe('yes');
  });

  test('stop two of three managers: a write fails fast with the no-leader error; start them: the swarm heals', async () => {
    const leader = await waitHealthy(cluster, managers);
    const [follower, survivor] = managers.filter((m) => m !== leader) as [SkepNode, SkepNode];
    await leader.kill9();
    await follower.stop();

    const started = Date.now();
    // A hang (rather than an error) fails here through the CLI runner's own timeout.
    const result = await survivor.cliWith({ timeoutMs: 30_000 }, 'node', 'update', '--label-add', 'lost=quorum', survivor.id);
    console.log(`quorum loss: the write was refused after ${Date.now() - started} ms`);
    expect(result).toEqual({ code: 1, stdout: '', stderr: daemonErrorLine(skepError('NO_LEADER').message) });
    const status = await survivor.status();
    expect(status).toMatchObject({ state: 'active', leaderId: null });

    await Promise.all([leader.start(), follower.start()]);
    const healed = await waitHealthy(cluster, managers, 60_000);
    expectOk(await labelAdd(survivor, survivor.id, 'healed', 'yes'), 'a write after healing');
    const labels = (await healed.api((api) => api.nodeInspect(survivor.id))).spec.labels;
    expect(labels.healed).toBe('yes');
  });
});

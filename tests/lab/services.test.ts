// Services on a lab of real hosts: five network-namespace hosts, each with its own Docker Engine and
// its own `skep daemon` (3 managers, 2 workers), driven through the real CLI. What runs is checked on
// each host's engine, apart from what the swarm says. The cases share one lab and run in order.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SkepClient } from '../../shared/api.js';
import type { Service, Task } from '../../shared/services.js';
import { waitUntil, withApi, type CliResult } from '../cluster/harness.js';
import { busyboxUnavailableReason } from '../support/busybox-image.js';
import { dockerdUnavailableReason } from '../support/dockerd.js';
import { EngineLab, LAB_IMAGE, type EngineHost } from './engine-lab.js';

const IMAGE_V2 = 'skep-lab/busybox:2';
/** An image no engine has, from a registry on the host's own loopback that isn't there: the pull fails at once. */
const MISSING_IMAGE = '127.0.0.1:9/skep-lab/missing:1';
/** Quick stops (busybox's sleep as PID 1 ignores SIGTERM) and restarts. */
const QUICK = ['--stop-grace-period', '1s', '--restart-delay', '1s'];

const skipReason = dockerdUnavailableReason() ?? busyboxUnavailableReason();
if (skipReason) console.log(`[lab/services] skipped: ${skipReason}`);

interface EngineContainer {
  readonly id: string;
  /** The lab host whose engine runs it. */
  readonly host: EngineHost;
  readonly node: string;
  readonly task: string;
  readonly service: string;
  readonly running: boolean;
  readonly image: string;
}

describe.skipIf(skipReason !== undefined)('services on a lab of Docker Engine hosts (3 managers, 2 workers)', () => {
  const lab = new EngineLab();
  let m1: EngineHost, m2: EngineHost, m3: EngineHost, w1: EngineHost, w2: EngineHost;
  /** The manager the test talks to (it changes when its daemon is killed). */
  let via: EngineHost;

  const skep = async (args: readonly string[], stdin?: string): Promise<CliResult> => via.cli(args, stdin === undefined ? {} : { stdin });
  const ok = async (args: readonly string[]): Promise<CliResult> => {
    const result = await skep(args);
    if (result.code !== 0) throw new Error(`skep ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result;
  };
  const api = <T>(call: (client: SkepClient) => Promise<T>): Promise<T> => withApi(via.control, call);
  const tasks = (service: string): Promise<Task[]> => api((c) => c.taskList({ services: [service] }));
  const inspect = (service: string): Promise<Service> => api((c) => c.serviceInspect(service));
  const runningTasks = async (service: string): Promise<Task[]> => (await tasks(service)).filter((t) => t.desiredState === 'running' && t.status.state === 'running');

  /** What every reachable engine runs for Skep, as the engines say. */
  async function containers(service?: string, hosts: readonly EngineHost[] = lab.hosts): Promise<EngineContainer[]> {
    const out: EngineContainer[] = [];
    for (const host of hosts) {
      const list = await host.docker.listContainers({ all: true, filters: { label: ['io.skep.managed=true'] } });
      for (const c of list) {
        const entry = {
          id: c.Id,
          host,
          node: c.Labels['com.docker.swarm.node.id'] ?? '',
          task: c.Labels['com.docker.swarm.task.id'] ?? '',
          service: c.Labels['com.docker.swarm.service.name'] ?? '',
          running: c.State === 'running',
          image: c.Image,
        };
        if (service === undefined || entry.service === service) out.push(entry);
      }
    }
    return out;
  }

  /**
   * Exactly `count` running tasks, each with exactly one running container — on the engine of the
   * host its node is — and no other running container of the service anywhere.
   */
  async function converged(service: string, count: number, hosts: readonly EngineHost[] = lab.hosts, timeoutMs = 60_000): Promise<Task[]> {
    return waitUntil(`${count} running tasks of ${service}, each with its one container on its own node's engine`, async () => {
      const running = await runningTasks(service);
      const live = (await containers(service, hosts)).filter((c) => c.running);
      if (running.length !== count || live.length !== count) return undefined;
      for (const task of running) {
        const mine = live.filter((c) => c.task === task.id);
        if (mine.length !== 1 || mine[0]!.host.nodeId !== task.nodeId || mine[0]!.node !== task.nodeId) return undefined;
      }
      return running;
    }, { timeoutMs, intervalMs: 300 });
  }

  const perNode = (list: readonly Task[]): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const t of list) counts.set(t.nodeId, (counts.get(t.nodeId) ?? 0) + 1);
    return counts;
  };
  const hostOf = (task: Task): EngineHost => {
    const host = lab.byNodeId(task.nodeId);
    if (!host) throw new Error(`task ${task.id} is on unknown node ${task.nodeId}`);
    return host;
  };
  const leader = async (candidates: readonly EngineHost[]): Promise<EngineHost> =>
    waitUntil('a leader every running manager agrees on', async () => {
      const statuses = await Promise.all(candidates.map((m) => withApi(m.control, (c) => c.getSwarmStatus())));
      const ids = new Set(statuses.map((s) => (s.state === 'active' ? s.leaderId : null)));
      const id = [...ids][0];
      return ids.size === 1 && id ? candidates.find((m) => m.nodeId === id) : undefined;
    }, { timeoutMs: 60_000 });
  const nodeState = async (host: EngineHost): Promise<string> => (await api((c) => c.nodeList())).find((n) => n.id === host.nodeId)?.status.state ?? 'missing';

  beforeAll(async () => {
    try {
      await lab.create(['m1', 'm2', 'm3', 'w1', 'w2']);
      [m1, m2, m3, w1, w2] = lab.hosts as [EngineHost, EngineHost, EngineHost, EngineHost, EngineHost];
      for (const host of lab.hosts) await host.docker.getImage(LAB_IMAGE).tag({ repo: 'skep-lab/busybox', tag: '2' });
      await lab.formSwarm({ m2: 'manager', m3: 'manager', w1: 'worker', w2: 'worker' });
      via = m1;
      await waitUntil('5 nodes Ready', async () => {
        const nodes = await api((c) => c.nodeList());
        return nodes.length === 5 && nodes.every((n) => n.status.state === 'ready');
      }, { timeoutMs: 60_000 });
      for (const [host, zone] of [[m1, 'a'], [m2, 'a'], [m3, 'a'], [w1, 'b'], [w2, 'c']] as const) await ok(['node', 'update', '--label-add', `zone=${zone}`, host.nodeId]);
    } catch (error) {
      throw new Error(`lab setup failed: ${error instanceof Error ? error.message : String(error)}\n${lab.hosts.map((h) => `==== ${h.name}\n${h.logs().slice(-3000)}`).join('\n')}`);
    }
  }, 300_000);

  afterAll(async () => {
    await lab.destroy();
  }, 180_000);

  test('replicated and global services come up on the right nodes; constraints and spread hold', async () => {
    await ok(['service', 'create', '-d', '--name', 'web', '--replicas', '5', ...QUICK, LAB_IMAGE, 'sleep', '100000']);
    await ok(['service', 'create', '-d', '--name', 'workers', '--replicas', '4', '--constraint', 'node.role==worker', ...QUICK, LAB_IMAGE, 'sleep', '100000']);
    await ok(['service', 'create', '-d', '--name', 'agents', '--mode', 'global', '--constraint', 'node.role==manager', ...QUICK, LAB_IMAGE, 'sleep', '100000']);
    await ok(['service', 'create', '-d', '--name', 'zoned', '--replicas', '6', '--placement-pref', 'spread=node.labels.zone', ...QUICK, LAB_IMAGE, 'sleep', '100000']);

    // Spread: five replicas over five empty nodes, one each.
    const web = await converged('web', 5);
    expect([...perNode(web).values()]).toEqual([1, 1, 1, 1, 1]);
    const workers = await converged('workers', 4);
    expect(perNode(workers)).toEqual(new Map([[w1.nodeId, 2], [w2.nodeId, 2]]));
    const agents = await converged('agents', 3);
    expect(agents.map((t) => t.nodeId).sort()).toEqual([m1, m2, m3].map((h) => h.nodeId).sort());
    expect(agents.every((t) => t.slot === 0)).toBe(true);
    // Global containers are named by node, as Swarm names them.
    for (const t of agents) expect((await hostOf(t).docker.getContainer((await containers('agents')).find((c) => c.task === t.id)!.id).inspect()).Name).toBe(`/agents.${t.nodeId}.${t.id}`);
    // Spread over zones first: a (3 managers), b (w1), c (w2) get two each.
    const zoned = await converged('zoned', 6);
    const zoneOf = (t: Task): string => (hostOf(t).name.startsWith('m') ? 'a' : hostOf(t) === w1 ? 'b' : 'c');
    const zones = new Map<string, number>();
    for (const t of zoned) zones.set(zoneOf(t), (zones.get(zoneOf(t)) ?? 0) + 1);
    expect(zones).toEqual(new Map([['a', 2], ['b', 2], ['c', 2]]));

    const ls = (await ok(['service', 'ls'])).stdout;
    expect(ls).toMatch(/ web +replicated +5\/5 +skep-lab\/busybox:1/);
    expect(ls).toMatch(/ agents +global +3\/3 +skep-lab\/busybox:1/);
    await ok(['service', 'rm', 'workers', 'agents', 'zoned']);
    await waitUntil('the removed services\' containers gone from every engine', async () => (await containers()).every((c) => c.service === 'web'), { timeoutMs: 60_000 });
  });

  test('scale up and down: containers follow on the engines; surplus ones are removed', async () => {
    const up = await ok(['service', 'scale', 'web=10']);
    expect(up.stdout.split('\n')[0]).toBe('web scaled to 10');
    expect(up.stdout).toContain('overall progress: 10 out of 10 tasks');
    const ten = await converged('web', 10);
    expect([...perNode(ten).values()]).toEqual([2, 2, 2, 2, 2]);
    expect(ten.map((t) => t.slot).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    await ok(['service', 'scale', '-d', 'web=3']);
    const three = await converged('web', 3);
    expect(three.map((t) => t.slot).sort()).toEqual([1, 2, 3]);
    // Surplus slots are shut down on the most loaded nodes first: three nodes keep one each.
    expect([...perNode(three).values()]).toEqual([1, 1, 1]);
    await waitUntil('7 surplus containers removed from the engines', async () => (await containers('web')).length === 3, { timeoutMs: 60_000 });
  });

  test('kill -9 of a container: a new task in the same slot, on a real engine', async () => {
    const [victimTask] = await converged('web', 3);
    const victim = (await containers('web')).find((c) => c.task === victimTask!.id)!;
    await victim.host.docker.getContainer(victim.id).kill({ signal: 'SIGKILL' });
    const replaced = await waitUntil('a new running task in the victim\'s slot', async () => {
      const running = await runningTasks('web');
      return running.find((t) => t.slot === victimTask!.slot && t.id !== victimTask!.id);
    }, { timeoutMs: 60_000 });
    expect(replaced.origin).toBe('restart');
    const old = (await tasks('web')).find((t) => t.id === victimTask!.id)!;
    expect(old.status.state).toBe('failed');
    expect(old.status.err).toBe('task: non-zero exit (137)');
    await converged('web', 3);
  });

  test('logs from tasks on two nodes arrive in one stream, each line with Docker\'s prefix', async () => {
    await ok(['service', 'create', '-d', '--name', 'talker', '--replicas', '2', '--constraint', 'node.role==worker', ...QUICK, LAB_IMAGE, 'sh', '-c', 'echo hello from $(hostname); sleep 100000']);
    const running = await converged('talker', 2);
    expect(running.map((t) => t.nodeId).sort()).toEqual([w1.nodeId, w2.nodeId].sort());
    const out = await waitUntil('both tasks\' lines', async () => {
      const result = await ok(['service', 'logs', 'talker']);
      return result.stdout.trim().split('\n').length === 2 ? result.stdout : undefined;
    }, { timeoutMs: 30_000 });
    for (const t of running) {
      expect(out).toMatch(new RegExp(`^talker\\.${t.slot}\\.${t.id.slice(0, 12)}@${hostOf(t).hostname}    \\| hello from `, 'm'));
    }
    await ok(['service', 'rm', 'talker']);
  });

  /** Per slot: the old task's container and the new one's, with their start and stop times. */
  async function slotTimes(service: string, oldTasks: readonly Task[], newTasks: readonly Task[]): Promise<Array<{ slot: number; oldFinished: number; newStarted: number }>> {
    const all = await containers(service);
    const times = async (task: Task): Promise<{ started: number; finished: number }> => {
      const c = all.find((x) => x.task === task.id);
      if (!c) throw new Error(`no container for task ${task.id}`);
      const info = await c.host.docker.getContainer(c.id).inspect();
      return { started: Date.parse(info.State.StartedAt), finished: Date.parse(info.State.FinishedAt) };
    };
    const out = [];
    for (const n of newTasks) {
      const o = oldTasks.find((t) => t.slot === n.slot)!;
      out.push({ slot: n.slot, oldFinished: (await times(o)).finished, newStarted: (await times(n)).started });
    }
    return out;
  }

  async function rollingUpdate(service: string, order: 'start-first' | 'stop-first'): Promise<Array<{ slot: number; oldFinished: number; newStarted: number }>> {
    await ok(['service', 'create', '-d', '--name', service, '--replicas', '2', '--constraint', 'node.role==worker', '--update-order', order, '--update-parallelism', '1', '--update-monitor', '1s', ...QUICK, LAB_IMAGE, 'sleep', '100000']);
    const before = await converged(service, 2);
    const updated = await ok(['service', 'update', '--image', IMAGE_V2, service]);
    expect(updated.stdout.trim().split('\n').at(-1)).toBe(`verify: Service ${service} converged`);
    const after = await converged(service, 2);
    expect(after.every((t) => t.spec.container.image === IMAGE_V2 && t.origin === 'update')).toBe(true);
    expect(after.map((t) => t.slot).sort()).toEqual(before.map((t) => t.slot).sort());
    for (const c of (await containers(service)).filter((x) => x.running)) expect(c.image).toBe(IMAGE_V2);
    expect((await inspect(service)).updateStatus?.state).toBe('completed');
    return slotTimes(service, before, after);
  }

  test('rolling updates: start-first starts each slot\'s new container before the old one stops; stop-first the other way round', async () => {
    const [early, late] = await Promise.all([rollingUpdate('early', 'start-first'), rollingUpdate('late', 'stop-first')]);
    for (const s of early) expect(s.newStarted).toBeLessThan(s.oldFinished);
    for (const s of late) expect(s.oldFinished).toBeLessThanOrEqual(s.newStarted);
    await ok(['service', 'rm', 'early', 'late']);
  });

  test('a failing update pauses with Swarm\'s message, changes only one slot, and service rollback restores the rest', async () => {
    await ok(['service', 'create', '-d', '--name', 'fragile', '--replicas', '3', '--update-parallelism', '1', '--update-monitor', '2s', ...QUICK, LAB_IMAGE, 'sleep', '100000']);
    const before = await converged('fragile', 3);
    const beforeContainers = (await containers('fragile')).filter((c) => c.running).map((c) => c.id).sort();
    await ok(['service', 'update', '-d', '--image', MISSING_IMAGE, 'fragile']);
    const paused = await waitUntil('the update paused', async () => {
      const s = await inspect('fragile');
      return s.updateStatus?.state === 'paused' ? s : undefined;
    }, { timeoutMs: 60_000 });
    const failed = (await tasks('fragile')).find((t) => t.spec.container.image === MISSING_IMAGE && t.status.state === 'rejected');
    expect(failed?.status.err).toBe(`No such image: ${MISSING_IMAGE}`);
    expect(paused.updateStatus?.message).toMatch(/^update paused due to failure or early termination of task [0-9a-z]{25}$/);
    // Only the first slot was touched: the other two still run their original containers.
    const stillOld = (await runningTasks('fragile')).filter((t) => t.spec.container.image === LAB_IMAGE);
    expect(stillOld).toHaveLength(2);
    expect(stillOld.every((t) => before.some((b) => b.id === t.id))).toBe(true);
    const liveNow = (await containers('fragile')).filter((c) => c.running).map((c) => c.id);
    expect(liveNow.every((id) => beforeContainers.includes(id))).toBe(true);

    const rolledBack = await ok(['service', 'rollback', 'fragile']);
    expect(rolledBack.stdout.trim().split('\n').at(-1)).toBe('verify: Service fragile converged');
    const back = await converged('fragile', 3);
    expect(back.every((t) => t.spec.container.image === LAB_IMAGE)).toBe(true);
    await waitUntil('rollback_completed', async () => (await inspect('fragile')).updateStatus?.state === 'rollback_completed', { timeoutMs: 30_000 });
    // The two slots that never changed kept their containers through the rollback.
    const kept = (await containers('fragile')).filter((c) => c.running && beforeContainers.includes(c.id));
    expect(kept).toHaveLength(2);
    await ok(['service', 'rm', 'fragile']);
  });

  test('bad input gets Swarm\'s texts and changes nothing', async () => {
    // What earlier cases removed is gone first, so "nothing changed" compares like with like.
    await waitUntil('only web\'s containers left', async () => (await containers()).every((c) => c.service === 'web'), { timeoutMs: 60_000 });
    const servicesBefore = (await api((c) => c.serviceList())).map((e) => `${e.service.id}@${e.service.version}`).sort();
    const containersBefore = (await containers()).map((c) => c.id).sort();

    // Bad flag values: refused by the CLI with Docker's texts, before anything is sent.
    const flags: Array<[string[], string]> = [
      [['--replicas', '-1'], 'invalid argument "-1" for "--replicas" flag: strconv.ParseUint: parsing "-1": invalid syntax'],
      [['--limit-memory', 'abc'], 'invalid argument "abc" for "--limit-memory" flag: invalid size: \'abc\''],
      [['--restart-delay', '5x'], 'invalid argument "5x" for "--restart-delay" flag: time: unknown unit "x" in duration "5x"'],
    ];
    for (const [args, text] of flags) {
      const refused = await skep(['service', 'create', '--name', 'bad', ...args, LAB_IMAGE]);
      expect(refused.code, args.join(' ')).toBe(125);
      expect(refused.stderr.split('\n')[0]).toBe(text);
    }
    const scale = await skep(['service', 'scale', 'web=x']);
    expect(scale.stderr.split('\n')[0]).toBe('web: invalid replicas value x: strconv.ParseUint: parsing "x": invalid syntax');
    const constraint = await skep(['service', 'create', '--name', 'bad', '--constraint', 'node.role', LAB_IMAGE]);
    expect(constraint.stderr).toBe('Error response from daemon: constraint expected one operator from ==, !=\n');
    const taken = await skep(['service', 'create', '--name', 'web', LAB_IMAGE]);
    expect(taken.stderr).toBe('Error response from daemon: rpc error: code = AlreadyExists desc = name conflicts with an existing object\n');
    expect((await api((c) => c.serviceList())).map((e) => `${e.service.id}@${e.service.version}`).sort()).toEqual(servicesBefore);
    expect((await containers()).map((c) => c.id).sort()).toEqual(containersBefore);

    // An unknown image: the task is rejected with Docker's text; nothing runs for it.
    await ok(['service', 'create', '-d', '--name', 'ghost', '--restart-condition', 'none', MISSING_IMAGE]);
    const rejected = await waitUntil('the ghost task rejected', async () => (await tasks('ghost')).find((t) => t.status.state === 'rejected'), { timeoutMs: 60_000 });
    expect(rejected.status.err).toBe(`No such image: ${MISSING_IMAGE}`);
    expect((await containers('ghost')).filter((c) => c.running)).toHaveLength(0);

    // A constraint no node meets: PENDING with the scheduler's explanation, no container anywhere.
    await ok(['service', 'create', '-d', '--name', 'nowhere', '--constraint', 'node.labels.zone==mars', LAB_IMAGE, 'sleep', '100000']);
    const pending = await waitUntil('the nowhere task pending with a reason', async () => (await tasks('nowhere')).find((t) => t.status.err !== ''), { timeoutMs: 30_000 });
    expect(pending.status.state).toBe('pending');
    expect(pending.status.err).toBe('no suitable node (scheduling constraints not satisfied on 5 nodes)');

    // A host-mode port every worker already publishes: the second service can't be placed there.
    await ok(['service', 'create', '-d', '--name', 'porter', '--mode', 'global', '--constraint', 'node.role==worker', '--publish', 'published=8080,target=80,mode=host', ...QUICK, LAB_IMAGE, 'httpd', '-f', '-p', '80', '-h', '/tmp']);
    const porters = await converged('porter', 2);
    for (const t of porters) expect(t.status.portStatus?.map((p) => p.publishedPort)).toEqual([8080]);
    await ok(['service', 'create', '-d', '--name', 'clash', '--constraint', 'node.role==worker', '--publish', 'published=8080,target=80,mode=host', LAB_IMAGE, 'httpd', '-f', '-p', '80']);
    const clash = await waitUntil('the clash task pending with a reason', async () => (await tasks('clash')).find((t) => t.status.err !== ''), { timeoutMs: 30_000 });
    expect(clash.status.state).toBe('pending');
    // Swarm lists the reasons from the most nodes to the fewest.
    expect(clash.status.err).toBe('no suitable node (scheduling constraints not satisfied on 3 nodes; host-mode port already in use on 2 nodes)');
    expect(await containers('nowhere')).toHaveLength(0);
    expect(await containers('clash')).toHaveLength(0);
    // Nothing else moved: web still runs on the containers it had.
    const webNow = (await containers('web')).filter((c) => c.running).map((c) => c.id);
    expect(webNow).toHaveLength(3);
    expect(webNow.every((id) => containersBefore.includes(id))).toBe(true);
    await ok(['service', 'rm', 'ghost', 'nowhere', 'porter', 'clash']);
  });

  test('drain moves a node\'s tasks away; pause adds none but keeps what runs', async () => {
    await ok(['service', 'scale', '-d', 'web=5']);
    const five = await converged('web', 5);
    expect(perNode(five).get(w1.nodeId)).toBe(1);
    await ok(['node', 'update', '--availability', 'drain', w1.nodeId]);
    const drained = await waitUntil('web off w1, still 5', async () => {
      const running = await converged('web', 5);
      return running.every((t) => t.nodeId !== w1.nodeId) ? running : undefined;
    }, { timeoutMs: 60_000 });
    expect(drained).toHaveLength(5);
    expect((await containers(undefined, [w1])).filter((c) => c.running)).toHaveLength(0);

    await ok(['node', 'update', '--availability', 'pause', w2.nodeId]);
    const onW2 = (await runningTasks('web')).filter((t) => t.nodeId === w2.nodeId).map((t) => t.id);
    await ok(['service', 'scale', '-d', 'web=8']);
    const eight = await converged('web', 8);
    expect(eight.filter((t) => t.nodeId === w2.nodeId).map((t) => t.id)).toEqual(onW2);
    expect(eight.some((t) => t.nodeId === w1.nodeId)).toBe(false);
    await ok(['node', 'update', '--availability', 'active', w1.nodeId]);
    await ok(['node', 'update', '--availability', 'active', w2.nodeId]);
    await ok(['service', 'rm', 'web']);
  });

  test('a daemon restart adopts the running containers: same IDs, never restarted, no duplicates', async () => {
    await ok(['service', 'create', '-d', '--name', 'steady', '--replicas', '4', '--constraint', 'node.role==worker', ...QUICK, LAB_IMAGE, 'sleep', '100000']);
    const before = await converged('steady', 4);
    const snapshot = async (): Promise<Array<[string, string, string]>> => {
      const out: Array<[string, string, string]> = [];
      for (const c of await containers('steady')) out.push([c.id, c.task, (await c.host.docker.getContainer(c.id).inspect()).State.StartedAt]);
      return out.sort();
    };
    const started = await snapshot();
    expect(started).toHaveLength(4);

    await w1.killDaemon();
    await w1.startDaemon();
    await waitUntil('w1 Ready again', async () => (await nodeState(w1)) === 'ready');
    // Time for the restarted agent to apply its complete set (a duplicate or a restart would show).
    await sleep(4000);
    const after = await converged('steady', 4);
    expect(after.map((t) => t.id).sort()).toEqual(before.map((t) => t.id).sort());
    expect(await snapshot()).toEqual(started);
  });

  test('a leader failover during a rolling update: the new leader finishes the update', async () => {
    await ok(['service', 'create', '-d', '--name', 'relay', '--replicas', '4', '--constraint', 'node.role==worker', '--update-parallelism', '1', '--update-delay', '2s', '--update-monitor', '1s', ...QUICK, LAB_IMAGE, 'sleep', '100000']);
    await converged('relay', 4);
    const old = await leader([m1, m2, m3]);
    await ok(['service', 'update', '-d', '--image', IMAGE_V2, 'relay']);
    await waitUntil('the first task updated', async () => (await runningTasks('relay')).some((t) => t.spec.container.image === IMAGE_V2), { timeoutMs: 60_000 });
    expect((await inspect('relay')).updateStatus?.state).toBe('updating');

    await old.killDaemon();
    const survivors = [m1, m2, m3].filter((m) => m !== old);
    via = survivors[0]!;
    const next = await leader(survivors);
    expect(next).not.toBe(old);
    const done = await waitUntil('the update completed under the new leader', async () => {
      const s = await inspect('relay');
      return s.updateStatus?.state === 'completed' ? s : undefined;
    }, { timeoutMs: 90_000 });
    expect(done.updateStatus?.message).toBe('update completed');
    const after = await converged('relay', 4, [w1, w2]);
    expect(after.every((t) => t.spec.container.image === IMAGE_V2)).toBe(true);

    await old.startDaemon();
    await waitUntil('the old leader Ready again', async () => (await nodeState(old)) === 'ready', { timeoutMs: 60_000 });
    await ok(['service', 'rm', 'relay']);
  });

  test('a worker whose daemon and engine die loses its tasks after the grace period; back again, it stops the old ones', async () => {
    const before = await converged('steady', 4);
    const lost = before.filter((t) => t.nodeId === w2.nodeId);
    expect(lost).toHaveLength(2);
    await w2.killDaemon();
    w2.killEngine();
    await waitUntil('w2 Down', async () => (await nodeState(w2)) === 'down', { timeoutMs: 60_000 });
    const moved = await converged('steady', 4, [m1, m2, m3, w1], 90_000);
    expect(moved.every((t) => t.nodeId === w1.nodeId)).toBe(true);
    expect(moved.map((t) => t.slot).sort()).toEqual(before.map((t) => t.slot).sort());
    for (const t of lost) expect((await tasks('steady')).find((x) => x.id === t.id)?.desiredState).toBe('shutdown');

    await w2.startEngine();
    await w2.startDaemon();
    await waitUntil('w2 Ready again', async () => (await nodeState(w2)) === 'ready', { timeoutMs: 60_000 });
    await waitUntil('the old tasks shut down on w2', async () => {
      const all = await tasks('steady');
      return lost.every((t) => ['shutdown', 'failed', 'complete'].includes(all.find((x) => x.id === t.id)?.status.state ?? ''));
    }, { timeoutMs: 60_000 });
    const after = await converged('steady', 4);
    expect(after.map((t) => t.id).sort()).toEqual(moved.map((t) => t.id).sort());
    await ok(['service', 'rm', 'steady']);
    await waitUntil('no Skep container left on any engine', async () => {
      const left = await containers();
      if (left.length === 0) return true;
      throw new Error(`left: ${left.map((c) => `${c.service} on ${c.host.name} (${c.running ? 'running' : 'stopped'}, task ${c.task})`).join(', ')}`);
    }, { timeoutMs: 120_000 });
  });
});

// Services on real Docker Engines: a manager and a worker (real `skep daemon` processes on loopback)
// share one real dockerd of this file's own, each node seeing only containers labelled with its node
// ID. `service create|scale|rm` through the real CLI must run, move and remove real containers; a
// container killed with SIGKILL is replaced in the same slot; a dead worker's tasks move; a restarted
// daemon adopts its containers; logs come from both nodes, and `logs -f` streams them as they are
// written; an engine label (the engine runs with `--label storage=ssd`) is what `engine.labels.*`
// constraints match; bad input gets Swarm's texts.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Task } from '../../shared/services.js';
import { busyboxUnavailableReason, importBusyboxImage } from '../support/busybox-image.js';
import { dockerdUnavailableReason, startDockerd, type TestEngine } from '../support/dockerd.js';
import { Cluster, daemonErrorLine, expectOk, startCli, waitUntil, type SkepNode } from './harness.js';

const IMAGE = 'skep-test/busybox:1';
const skipReason = dockerdUnavailableReason() ?? busyboxUnavailableReason();
if (skipReason) console.log(`[cluster/services] skipped: ${skipReason}`);

interface EngineContainer {
  readonly id: string;
  readonly node: string;
  readonly task: string;
  readonly service: string;
  readonly running: boolean;
}

describe.skipIf(skipReason !== undefined)('services on real Docker Engines', () => {
  let engine: TestEngine;
  let docker: Docker;
  let workDir: string;
  let cluster: Cluster;
  let manager: SkepNode, worker: SkepNode;
  const previousDockerHost = process.env['DOCKER_HOST'];

  /** What really runs on the engine for Skep, as the engine says. */
  async function containers(serviceName?: string): Promise<EngineContainer[]> {
    const list = await docker.listContainers({ all: true, filters: { label: ['io.skep.managed=true'] } });
    return list
      .map((c) => ({
        id: c.Id,
        node: c.Labels['com.docker.swarm.node.id'] ?? '',
        task: c.Labels['com.docker.swarm.task.id'] ?? '',
        service: c.Labels['com.docker.swarm.service.name'] ?? '',
        running: c.State === 'running',
      }))
      .filter((c) => serviceName === undefined || c.service === serviceName);
  }

  function tasks(service: string): Promise<Task[]> {
    return manager.api((api) => api.taskList({ services: [service] }));
  }

  async function runningTasks(service: string): Promise<Task[]> {
    return (await tasks(service)).filter((t) => t.desiredState === 'running' && t.status.state === 'running');
  }

  /** Waits until exactly `count` tasks run and exactly their containers run on the engine. */
  async function converged(service: string, count: number): Promise<Task[]> {
    return waitUntil(`${count} running tasks of ${service} with one running container each`, async () => {
      const running = await runningTasks(service);
      const live = (await containers(service)).filter((c) => c.running);
      if (running.length !== count || live.length !== count) return undefined;
      const ids = new Set(running.map((t) => t.id));
      return live.every((c) => ids.has(c.task)) ? running : undefined;
    }, { timeoutMs: 60_000 });
  }

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'skep-services-'));
    engine = await startDockerd(workDir, ['--label', 'storage=ssd']);
    docker = new Docker({ socketPath: engine.host.slice('unix://'.length) });
    await importBusyboxImage(docker, workDir, IMAGE);
    // The daemons inherit it: both nodes run their tasks on this file's engine.
    process.env['DOCKER_HOST'] = engine.host;
    cluster = new Cluster({ subnet: 39, heartbeatMs: 500 });
    [manager, worker] = (await cluster.add(2)) as [SkepNode, SkepNode];
    await cluster.init(manager);
    await cluster.join(worker, 'worker', manager);
    await cluster.waitForNodes(manager, 'both nodes Ready', (nodes) => nodes.length === 2 && nodes.every((n) => n.status.state === 'ready'));
  }, 180_000);

  afterAll(async () => {
    if (previousDockerHost === undefined) delete process.env['DOCKER_HOST'];
    else process.env['DOCKER_HOST'] = previousDockerHost;
    await cluster?.cleanup();
    if (docker) {
      // The engine is this file's own: everything on it is this file's, removed by ID.
      for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true, v: true });
      for (const image of await docker.listImages({ all: true })) await docker.getImage(image.Id).remove({ force: true });
    }
    await engine?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }, 120_000);

  test('service create with 3 replicas runs 3 containers spread over both nodes, with Docker\'s progress', async () => {
    const created = expectOk(
      await manager.cliWith({ timeoutMs: 90_000 }, 'service', 'create', '--name', 'web', '--replicas', '3', '--stop-grace-period', '1s', '--restart-delay', '1s', '--update-monitor', '1s', IMAGE, 'sleep', '1000'),
      'service create',
    );
    const lines = created.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^[0-9a-z]{25}$/);
    expect(lines).toContain('overall progress: 3 out of 3 tasks');
    expect(lines).toContain('verify: Waiting 1 seconds to verify that tasks are stable...');
    expect(lines.at(-1)).toBe(`verify: Service ${lines[0]} converged`);

    const running = await converged('web', 3);
    expect(running.map((t) => t.slot).sort()).toEqual([1, 2, 3]);
    expect(new Set(running.map((t) => t.nodeId))).toEqual(new Set([manager.id, worker.id]));
    // Each container carries the node it belongs to, and is named as Swarm names it.
    for (const c of await containers('web')) {
      const task = running.find((t) => t.id === c.task)!;
      expect(c.node).toBe(task.nodeId);
      const info = await docker.getContainer(c.id).inspect();
      expect(info.Name).toBe(`/web.${task.slot}.${task.id}`);
    }

    const ls = expectOk(await manager.cli('service', 'ls'), 'service ls').stdout.split('\n');
    expect(ls[0]).toMatch(/^ID +NAME +MODE +REPLICAS +IMAGE +PORTS$/);
    // Go's tabwriter pads every cell but the last, as Docker's output is (trailing blanks for an empty PORTS).
    expect(ls[1]).toMatch(new RegExp(`^[0-9a-z]{12} +web +replicated +3/3 +${IMAGE.replace(/[./]/g, '\\$&')} *$`));

    const ps = expectOk(await manager.cli('service', 'ps', 'web'), 'service ps').stdout.split('\n');
    expect(ps[0]).toMatch(/^ID +NAME +IMAGE +NODE +DESIRED STATE +CURRENT STATE +ERROR +PORTS$/);
    expect(ps.filter((l) => / Running +Running /.test(l))).toHaveLength(3);
  });

  test('scale to 5 and back to 1: containers follow; the removed ones are gone from the engine', async () => {
    const up = expectOk(await manager.cliWith({ timeoutMs: 90_000 }, 'service', 'scale', 'web=5'), 'scale up');
    expect(up.stdout.split('\n')[0]).toBe('web scaled to 5');
    expect(up.stdout).toContain('overall progress: 5 out of 5 tasks');
    expect(up.stdout.trim().split('\n').at(-1)).toBe('verify: Service web converged');
    await converged('web', 5);

    expect(expectOk(await manager.cli('service', 'scale', '--detach', 'web=1'), 'scale down').stdout).toBe('web scaled to 1\n');
    const [kept] = await converged('web', 1);
    expect(kept!.slot).toBe(1);
    await waitUntil('the 4 surplus containers removed from the engine', async () => (await containers('web')).length === 1, { timeoutMs: 60_000 });
  });

  test('a container killed with SIGKILL is replaced by a new task in the same slot', async () => {
    const [before] = await converged('web', 1);
    const [victim] = (await containers('web')).filter((c) => c.task === before!.id);
    await docker.getContainer(victim!.id).kill({ signal: 'SIGKILL' });
    const replaced = await waitUntil('a new running task in slot 1', async () => {
      const running = await runningTasks('web');
      return running.length === 1 && running[0]!.id !== before!.id ? running[0] : undefined;
    }, { timeoutMs: 60_000 });
    expect(replaced.slot).toBe(before!.slot);
    const old = (await tasks('web')).find((t) => t.id === before!.id)!;
    expect(old.status.state).toBe('failed');
    expect(old.status.err).toBe('task: non-zero exit (137)');
    const ps = expectOk(await manager.cli('service', 'ps', '--no-trunc', 'web'), 'service ps').stdout;
    expect(ps).toContain(' \\_ web.1');
    expect(ps).toContain('"task: non-zero exit (137)"');
    await converged('web', 1);
  });

  test('service update --image rolls the tasks to the new image, with Docker\'s progress', async () => {
    await docker.getImage(IMAGE).tag({ repo: 'skep-test/busybox', tag: '2' });
    expectOk(await manager.cli('service', 'scale', '-d', 'web=2'), 'scale to 2');
    const before = await converged('web', 2);
    const updated = expectOk(await manager.cliWith({ timeoutMs: 90_000 }, 'service', 'update', '--image', 'skep-test/busybox:2', 'web'), 'service update');
    expect(updated.stdout.split('\n')[0]).toBe('web');
    expect(updated.stdout).toContain('overall progress: 2 out of 2 tasks');
    expect(updated.stdout.trim().split('\n').at(-1)).toBe('verify: Service web converged');
    const after = await converged('web', 2);
    expect(after.every((t) => t.spec.container.image === 'skep-test/busybox:2')).toBe(true);
    expect(after.map((t) => t.slot).sort()).toEqual(before.map((t) => t.slot).sort());
    expect(after.some((t) => before.some((b) => b.id === t.id))).toBe(false);
    for (const c of (await containers('web')).filter((c) => c.running)) expect((await docker.getContainer(c.id).inspect()).Config.Image).toBe('skep-test/busybox:2');
    await waitUntil('the update completed', async () => {
      const service = await manager.api((api) => api.serviceInspect('web'));
      return service.updateStatus?.state === 'completed' ? service : undefined;
    }, { timeoutMs: 30_000 });

    // service rollback puts the previous image back, task by task.
    const rolledBack = expectOk(await manager.cliWith({ timeoutMs: 90_000 }, 'service', 'rollback', 'web'), 'service rollback');
    expect(rolledBack.stdout.trim().split('\n').at(-1)).toBe('verify: Service web converged');
    const back = await converged('web', 2);
    expect(back.every((t) => t.spec.container.image === IMAGE)).toBe(true);
    await waitUntil('the rollback completed', async () => {
      const service = await manager.api((api) => api.serviceInspect('web'));
      return service.updateStatus?.state === 'rollback_completed' ? service : undefined;
    }, { timeoutMs: 30_000 });
  });

  test('a global service runs one task on each node', async () => {
    expectOk(await manager.cli('service', 'create', '-d', '--mode', 'global', '--name', 'everywhere', '--stop-grace-period', '1s', IMAGE, 'sleep', '1000'), 'create global');
    const running = await converged('everywhere', 2);
    expect(running.map((t) => t.nodeId).sort()).toEqual([manager.id, worker.id].sort());
    const ls = expectOk(await manager.cli('service', 'ls'), 'service ls').stdout;
    expect(ls).toMatch(/ everywhere +global +2\/2 +skep-test\/busybox:1 *\n/);
    const scaled = await manager.cli('service', 'scale', 'everywhere=3');
    expect(scaled.stderr).toBe(daemonErrorLine('scale can only be used with replicated or replicated-job mode'));
    const ps = expectOk(await manager.cli('node', 'ps', worker.id), 'node ps').stdout;
    expect(ps).toMatch(new RegExp(`everywhere\\.${worker.id} `));
  });

  test('service logs merges the lines of tasks on both nodes, each with Docker\'s prefix', async () => {
    expectOk(await manager.cli('service', 'create', '-d', '--name', 'talker', '--replicas', '2', '--stop-grace-period', '1s', IMAGE, 'sh', '-c', 'echo hello from $HOSTNAME; sleep 1000'), 'create talker');
    const running = await converged('talker', 2);
    const hostnames = new Map((await manager.nodes()).map((n) => [n.id, n.description.hostname]));
    const out = await waitUntil('both tasks\' lines', async () => {
      const result = expectOk(await manager.cli('service', 'logs', 'talker'), 'service logs');
      return result.stdout.trim().split('\n').length === 2 ? result.stdout : undefined;
    }, { timeoutMs: 30_000 });
    const expected = running.map((t) => new RegExp(`^talker\\.${t.slot}\\.${t.id.slice(0, 12)}@${hostnames.get(t.nodeId)!.replace(/[.]/g, '\\.')}    \\| hello from `, 'm'));
    for (const pattern of expected) expect(out).toMatch(pattern);
    expect(running.map((t) => t.nodeId).sort()).toEqual([manager.id, worker.id].sort());
    expectOk(await manager.cli('service', 'rm', 'talker'), 'rm talker');
  });

  test('service logs -f streams lines as the tasks write them, from both nodes, follows a new task, and ends on Ctrl-C', async () => {
    expectOk(await manager.cli('service', 'create', '-d', '--name', 'ticker', '--replicas', '2', '--stop-grace-period', '1s', IMAGE, 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done'), 'create ticker');
    const first = await converged('ticker', 2);
    expect(new Set(first.map((t) => t.nodeId))).toEqual(new Set([manager.id, worker.id]));
    const follower = startCli(manager.control, ['service', 'logs', '-f', 'ticker']);
    let out = '';
    follower.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const linesOf = (task: Task): number[] =>
      [...out.matchAll(new RegExp(`^ticker\\.${task.slot}\\.${task.id.slice(0, 12)}@[^ ]+    \\| tick (\\d+)$`, 'gm'))].map((m) => Number(m[1]));
    try {
      // Lines keep coming while the command runs: numbers the containers print after it started.
      await waitUntil('three new lines of each task', async () => first.every((t) => linesOf(t).length >= 3) || undefined, { timeoutMs: 30_000 });
      const seen = first.map((t) => Math.max(...linesOf(t)));
      await waitUntil('later lines of each task', async () => first.every((t, i) => Math.max(...linesOf(t)) > seen[i]!) || undefined, { timeoutMs: 30_000 });
      expectOk(await manager.cli('service', 'scale', '-d', 'ticker=3'), 'scale ticker');
      const third = (await converged('ticker', 3)).find((t) => !first.some((f) => f.id === t.id))!;
      await waitUntil('the new task\'s lines in the same stream', async () => linesOf(third).length >= 2 || undefined, { timeoutMs: 30_000 });
      expect(linesOf(third)[0]).toBe(0);
      expect(follower.exitCode).toBeNull();
    } finally {
      follower.kill('SIGINT');
    }
    const [code, signal] = (await once(follower, 'close')) as [number | null, NodeJS.Signals | null];
    expect(code === 130 || signal === 'SIGINT').toBe(true);
    expectOk(await manager.cli('service', 'rm', 'ticker'), 'rm ticker');
  });

  test('engine.labels constraints match what the agents read from their engine', async () => {
    const nodes = await manager.nodes();
    expect(nodes.map((n) => n.description.engineLabels)).toEqual([{ storage: 'ssd' }, { storage: 'ssd' }]);
    const inspected = expectOk(await manager.cli('node', 'inspect', '--format', '{{json .Description.Engine.Labels}}', 'self'), 'node inspect').stdout;
    expect(inspected).toBe('{"storage":"ssd"}\n');
    expectOk(await manager.cli('service', 'create', '-d', '--name', 'fast', '--replicas', '2', '--stop-grace-period', '1s', '--constraint', 'engine.labels.storage==ssd', IMAGE, 'sleep', '1000'), 'create fast');
    await converged('fast', 2);
    expectOk(await manager.cli('service', 'create', '-d', '--name', 'spinning', '--constraint', 'engine.labels.storage==hdd', IMAGE, 'sleep', '1000'), 'create spinning');
    const pending = await waitUntil('the spinning task pending', async () => (await tasks('spinning')).find((t) => t.status.err !== ''), { timeoutMs: 30_000 });
    expect(pending.status.err).toBe('no suitable node (scheduling constraints not satisfied on 2 nodes)');
    expectOk(await manager.cli('service', 'rm', 'fast', 'spinning'), 'rm fast spinning');
  });

  test('bad input gets Swarm\'s texts: an image no node has, a constraint no node meets, a taken name', async () => {
    // A registry on loopback that isn't there: the pull fails at once and stays on this machine.
    const missing = '127.0.0.1:9/skep-test/nope:1';
    expectOk(await manager.cli('service', 'create', '-d', '--name', 'ghost', '--restart-condition', 'none', missing), 'create ghost');
    const rejected = await waitUntil('the ghost task rejected', async () => (await tasks('ghost')).find((t) => t.status.state === 'rejected'), { timeoutMs: 60_000 });
    expect(rejected.status.err).toBe(`No such image: ${missing}`);

    expectOk(await manager.cli('service', 'create', '-d', '--name', 'nowhere', '--constraint', 'node.labels.zone==mars', IMAGE, 'sleep', '1000'), 'create nowhere');
    const pending = await waitUntil('the nowhere task pending', async () => (await tasks('nowhere')).find((t) => t.status.err !== ''), { timeoutMs: 30_000 });
    expect(pending.status.state).toBe('pending');
    expect(pending.status.err).toBe('no suitable node (scheduling constraints not satisfied on 2 nodes)');
    expect((await containers('nowhere'))).toHaveLength(0);

    const taken = await manager.cli('service', 'create', '-d', '--name', 'web', IMAGE);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toBe(daemonErrorLine('rpc error: code = AlreadyExists desc = name conflicts with an existing object'));
    const badConstraint = await manager.cli('service', 'create', '-d', '--name', 'x', '--constraint', 'node.role', IMAGE);
    expect(badConstraint.stderr).toBe(daemonErrorLine('constraint expected one operator from ==, !='));
    const unknown = await manager.cli('service', 'scale', 'nope=2');
    expect(unknown.stderr).toBe(daemonErrorLine('service nope not found'));
    expect((await manager.api((api) => api.serviceList())).map((e) => e.service.spec.name).sort()).toEqual(['everywhere', 'ghost', 'nowhere', 'web']);
  });

  test('containers keep running while the manager is gone, and its restart adopts them: no duplicates, no restarts', async () => {
    expectOk(await manager.cli('service', 'create', '-d', '--name', 'steady', '--replicas', '2', '--stop-grace-period', '1s', IMAGE, 'sleep', '1000'), 'create steady');
    const before = await converged('steady', 2);
    expect(new Set(before.map((t) => t.nodeId))).toEqual(new Set([manager.id, worker.id]));
    const startedAt = async (): Promise<Map<string, string>> => {
      const out = new Map<string, string>();
      for (const c of await containers('steady')) out.set(c.id, (await docker.getContainer(c.id).inspect()).State.StartedAt);
      return out;
    };
    const started = await startedAt();

    await manager.kill9();
    // Several heartbeat periods with no manager: the worker's agent changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await containers('steady')).filter((c) => c.running)).toHaveLength(2);

    await manager.start();
    await cluster.waitForLeader([manager]);
    const after = await converged('steady', 2);
    expect(after.map((t) => t.id).sort()).toEqual(before.map((t) => t.id).sort());
    // The same containers, never started again.
    expect(await startedAt()).toEqual(started);
  });

  test('a worker whose daemon dies loses its tasks to the other node; back again, it stops the old container', async () => {
    expectOk(await manager.cli('service', 'create', '-d', '--name', 'mover', '--replicas', '2', '--stop-grace-period', '1s', IMAGE, 'sleep', '1000'), 'create mover');
    const before = await converged('mover', 2);
    const onWorker = before.find((t) => t.nodeId === worker.id)!;
    expect(onWorker).toBeDefined();
    await worker.kill9();
    // Three missed heartbeats: Down, and the slot moves to the manager.
    const moved = await waitUntil('both mover tasks running on the manager', async () => {
      const running = await runningTasks('mover');
      return running.length === 2 && running.every((t) => t.nodeId === manager.id) ? running : undefined;
    }, { timeoutMs: 60_000 });
    expect(moved.map((t) => t.slot).sort()).toEqual([1, 2]);
    expect((await tasks('mover')).find((t) => t.id === onWorker.id)?.desiredState).toBe('shutdown');

    await worker.start();
    await cluster.waitForNodes(manager, 'the worker Ready again', (nodes) => nodes.every((n) => n.status.state === 'ready'));
    // Its old container is stopped by its own agent, as the store now wants.
    await waitUntil('the old task shut down on the worker', async () => (await tasks('mover')).find((t) => t.id === onWorker.id)?.status.state === 'shutdown', { timeoutMs: 60_000 });
    const live = (await containers('mover')).filter((c) => c.running);
    expect(live.map((c) => c.task).sort()).toEqual(moved.map((t) => t.id).sort());
  });

  test('service rm removes the services and every container of theirs', async () => {
    const removed = expectOk(await manager.cli('service', 'rm', 'web', 'ghost', 'nowhere', 'steady', 'everywhere', 'mover'), 'service rm');
    expect(removed.stdout).toBe('web\nghost\nnowhere\nsteady\neverywhere\nmover\n');
    await waitUntil('no Skep container left on the engine', async () => (await containers()).length === 0, { timeoutMs: 60_000 });
    expect(expectOk(await manager.cli('service', 'ls', '-q'), 'service ls').stdout.trim()).toBe('');
    await waitUntil('no task left in the store', async () => (await manager.api((api) => api.taskList({}))).length === 0, { timeoutMs: 30_000 });
  });
  test('a worker that leaves the swarm takes its task containers with it; its slot moves to the manager', async () => {
    expectOk(await manager.cli('service', 'create', '-d', '--name', 'leaver', '--replicas', '2', '--stop-grace-period', '1s', IMAGE, 'sleep', '1000'), 'create leaver');
    const before = await converged('leaver', 2);
    expect(before.some((t) => t.nodeId === worker.id)).toBe(true);
    expectOk(await worker.cli('swarm', 'leave'), 'swarm leave');
    expect((await containers('leaver')).filter((c) => c.node === worker.id)).toHaveLength(0);
    const after = await waitUntil('both leaver tasks running on the manager', async () => {
      const running = await runningTasks('leaver');
      return running.length === 2 && running.every((t) => t.nodeId === manager.id) ? running : undefined;
    }, { timeoutMs: 60_000 });
    expect(after.map((t) => t.slot).sort()).toEqual([1, 2]);
    expectOk(await manager.cli('service', 'rm', 'leaver'), 'rm leaver');
    await waitUntil('no Skep container left on the engine', async () => (await containers()).length === 0, { timeoutMs: 60_000 });
  });
});

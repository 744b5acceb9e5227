// Services on three real Docker Engines (network-namespace hosts, tests/lab/engine-lab.ts), Skep beside
// Docker Swarm itself on the same engines and the same local image. Needs root, dockerd, busybox-static
// and the built CLI (node build/scripts/build.mjs --quiet). Numbers are printed, never asserted.
//
// For each system, one manager and two workers, every node running tasks. Each step is timed from
// its API request (Skep's control socket, the Docker Engine API of Swarm's manager), so the numbers
// compare the swarms, not the command lines; the CLIs' own start-up time is printed apart.
//   create  — a service of 30 replicas → 30 tasks RUNNING (as the system's own task list says)
//   scale   — 30 → 100 RUNNING (then each Skep daemon's RSS)
//   update  — back at 30, a new image with parallelism 5 → 30 RUNNING on the new image, and the
//             update's state "completed"
// Both systems get the same settings: stop grace 1 s (busybox's sleep ignores SIGTERM), update monitor 1 s.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SkepClient } from '../../shared/api.js';
import type { Task } from '../../shared/services.js';
import { waitUntil, withApi } from '../cluster/harness.js';
import { EngineLab, LAB_IMAGE, type EngineHost } from '../lab/engine-lab.js';
import { busyboxUnavailableReason } from '../support/busybox-image.js';
import { dockerdUnavailableReason } from '../support/dockerd.js';

const run = promisify(execFile);
const IMAGE_V2 = 'skep-lab/busybox:2';
const SERVICE = 'bench';
const POLL_MS = 100;

export interface ServicesBenchOptions {
  readonly print: (line: string) => void;
}

interface Timings {
  create: number;
  scale: number;
  update: number;
  updateCompleted: number;
}

/** What one system offers the bench: its API, and its own view of the service's tasks. */
interface System {
  readonly name: string;
  create(replicas: number): Promise<void>;
  scale(replicas: number): Promise<void>;
  updateImage(image: string): Promise<void>;
  remove(): Promise<void>;
  /** Tasks desired and observed RUNNING, with their image. */
  running(): Promise<Array<{ image: string }>>;
  updateState(): Promise<string>;
}

function elapsed(since: number): number {
  return performance.now() - since;
}

async function timeUntil(what: string, start: number, check: () => Promise<boolean>): Promise<number> {
  await waitUntil(what, async () => ((await check()) ? true : undefined), { timeoutMs: 600_000, intervalMs: POLL_MS });
  return elapsed(start);
}

async function measure(system: System, print: (line: string) => void, atHundred: () => Promise<void>): Promise<Timings> {
  const count = async (n: number, image = LAB_IMAGE): Promise<boolean> => {
    const running = await system.running();
    return running.length === n && running.every((t) => t.image === image);
  };
  let start = performance.now();
  await system.create(30);
  const create = await timeUntil('30 running', start, () => count(30));
  print(`services.${system.name}: create 30 → RUNNING ${(create / 1000).toFixed(2)} s`);

  start = performance.now();
  await system.scale(100);
  const scale = await timeUntil('100 running', start, () => count(100));
  print(`services.${system.name}: scale 30 → 100 RUNNING ${(scale / 1000).toFixed(2)} s`);
  await atHundred();

  await system.scale(30);
  await timeUntil('back at 30', performance.now(), () => count(30));
  start = performance.now();
  await system.updateImage(IMAGE_V2);
  const update = await timeUntil('30 running on the new image', start, () => count(30, IMAGE_V2));
  const updateCompleted = await timeUntil('the update completed', start, async () => (await system.updateState()) === 'completed');
  print(`services.${system.name}: rolling update of 30 (parallelism 5) → all RUNNING on the new image ${(update / 1000).toFixed(2)} s, "completed" ${(updateCompleted / 1000).toFixed(2)} s`);
  await system.remove();
  return { create, scale, update, updateCompleted };
}

function skep(manager: EngineHost): System {
  const api = <T>(call: (client: SkepClient) => Promise<T>): Promise<T> => withApi(manager.control, call);
  return {
    name: 'skep',
    async create(replicas) {
      await api((c) => c.serviceCreate({
        name: SERVICE,
        mode: { kind: 'replicated', replicas },
        taskTemplate: { container: { image: LAB_IMAGE, args: ['sleep', '100000'], stopGracePeriodMs: 1000 } },
        updateConfig: { parallelism: 5, monitorMs: 1000 },
      }));
    },
    async scale(replicas) {
      await api((c) => c.serviceScale(SERVICE, replicas));
    },
    async updateImage(image) {
      const current = await api((c) => c.serviceInspect(SERVICE));
      const spec = current.spec;
      await api((c) => c.serviceUpdate(SERVICE, { ...spec, taskTemplate: { ...spec.taskTemplate, container: { ...spec.taskTemplate.container, image } } }, {}));
    },
    async remove() {
      await api((c) => c.serviceRemove(SERVICE));
    },
    async running() {
      const tasks: Task[] = await api((c) => c.taskList({ services: [SERVICE] }));
      return tasks.filter((t) => t.desiredState === 'running' && t.status.state === 'running').map((t) => ({ image: t.spec.container.image }));
    },
    async updateState() {
      return (await api((c) => c.serviceInspect(SERVICE))).updateStatus?.state ?? '';
    },
  };
}

interface SwarmTask {
  DesiredState?: string;
  Status?: { State?: string };
  Spec?: { ContainerSpec?: { Image?: string } };
}

interface SwarmService {
  Version: { Index: number };
  Spec: { TaskTemplate: { ContainerSpec: { Image: string } }; Mode: { Replicated?: { Replicas: number } } };
  UpdateStatus?: { State?: string };
}

function swarm(manager: EngineHost): System {
  const service = async (): Promise<SwarmService> => (await manager.docker.getService(SERVICE).inspect()) as SwarmService;
  const update = async (change: (spec: SwarmService['Spec']) => SwarmService['Spec']): Promise<void> => {
    const current = await service();
    await manager.docker.getService(SERVICE).update({ version: current.Version.Index, ...change(current.Spec) });
  };
  return {
    name: 'swarm',
    async create(replicas) {
      await manager.docker.createService({
        Name: SERVICE,
        Mode: { Replicated: { Replicas: replicas } },
        TaskTemplate: { ContainerSpec: { Image: LAB_IMAGE, Args: ['sleep', '100000'], StopGracePeriod: 1e9 } },
        UpdateConfig: { Parallelism: 5, Monitor: 1e9, Order: 'stop-first' },
      });
    },
    async scale(replicas) {
      await update((spec) => ({ ...spec, Mode: { Replicated: { Replicas: replicas } } }));
    },
    async updateImage(image) {
      await update((spec) => ({ ...spec, TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: { ...spec.TaskTemplate.ContainerSpec, Image: image } } }));
    },
    async remove() {
      await manager.docker.getService(SERVICE).remove();
    },
    async running() {
      const tasks = (await manager.docker.listTasks({ filters: { service: [SERVICE], 'desired-state': ['running'] } })) as SwarmTask[];
      return tasks.filter((t) => t.Status?.State === 'running').map((t) => ({ image: t.Spec?.ContainerSpec?.Image ?? '' }));
    },
    async updateState() {
      return (await service()).UpdateStatus?.State ?? '';
    },
  };
}

/** Median wall time of a CLI's start-up (its version command, no daemon asked). */
async function cliStartMs(command: string, args: readonly string[]): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    await run(command, [...args]).catch(() => undefined);
    samples.push(elapsed(start));
  }
  return samples.sort((a, b) => a - b)[2]!;
}

async function noContainersLeft(lab: EngineLab): Promise<void> {
  await waitUntil('every container of the bench removed', async () => {
    for (const host of lab.hosts) if ((await host.docker.listContainers({ all: true })).length > 0) return undefined;
    return true;
  }, { timeoutMs: 300_000, intervalMs: 500 });
}

export async function runServicesBench(options: ServicesBenchOptions): Promise<unknown> {
  const { print } = options;
  const unavailable = dockerdUnavailableReason() ?? busyboxUnavailableReason();
  if (unavailable) {
    print(`services: skipped: ${unavailable}`);
    return undefined;
  }
  const lab = new EngineLab();
  try {
    await lab.create(['n1', 'n2', 'n3']);
    for (const host of lab.hosts) await host.docker.getImage(LAB_IMAGE).tag({ repo: 'skep-lab/busybox', tag: '2' });
    const [n1, n2, n3] = lab.hosts as [EngineHost, EngineHost, EngineHost];

    // Skep: a daemon on each host, n1 the manager.
    await lab.formSwarm({ n2: 'worker', n3: 'worker' });
    await waitUntil('3 Skep nodes Ready', async () => {
      const nodes = await withApi(n1.control, (api) => api.nodeList());
      return nodes.length === 3 && nodes.every((n) => n.status.state === 'ready');
    }, { timeoutMs: 60_000 });
    const rss: number[] = [];
    const skepTimes = await measure(skep(n1), print, async () => {
      for (const host of lab.hosts) rss.push(host.daemonRssKiB());
      print(`services.skep: daemon RSS with 100 tasks: ${lab.hosts.map((h, i) => `${h.name}${i === 0 ? ' (manager)' : ''} ${(rss[i]! / 1024).toFixed(1)} MiB`).join(', ')}`);
    });
    await noContainersLeft(lab);
    await Promise.all(lab.hosts.map((h) => h.stopDaemon()));

    // Docker Swarm on the same engines, n1 the manager.
    const docker = (host: EngineHost, ...args: string[]): Promise<{ stdout: string }> => run('docker', ['-H', `unix://${host.socket}`, ...args]);
    await docker(n1, 'swarm', 'init', '--advertise-addr', n1.address, '--listen-addr', `${n1.address}:2377`);
    const token = (await docker(n1, 'swarm', 'join-token', '-q', 'worker')).stdout.trim();
    for (const host of [n2, n3]) await docker(host, 'swarm', 'join', '--advertise-addr', host.address, '--listen-addr', `${host.address}:2377`, '--token', token, `${n1.address}:2377`);
    await waitUntil('3 Swarm nodes Ready', async () => {
      const nodes = (await n1.docker.listNodes()) as Array<{ Status?: { State?: string } }>;
      return nodes.length === 3 && nodes.every((n) => n.Status?.State === 'ready');
    }, { timeoutMs: 60_000 });
    const swarmTimes = await measure(swarm(n1), print, async () => {});
    await noContainersLeft(lab);
    for (const host of [n3, n2, n1]) await docker(host, 'swarm', 'leave', '--force').catch(() => undefined);

    const row = (what: string, s: number, d: number): void => {
      print(`services: ${what.padEnd(34)} skep ${(s / 1000).toFixed(2).padStart(7)} s   swarm ${(d / 1000).toFixed(2).padStart(7)} s   skep/swarm ${(s / d).toFixed(2)}`);
    };
    row('create 30 → RUNNING', skepTimes.create, swarmTimes.create);
    row('scale 30 → 100 RUNNING', skepTimes.scale, swarmTimes.scale);
    row('update 30, parallelism 5 → RUNNING', skepTimes.update, swarmTimes.update);
    row('update 30 → "completed"', skepTimes.updateCompleted, swarmTimes.updateCompleted);
    const skepCli = await cliStartMs(process.execPath, [lab.cli, '--version']);
    const dockerCli = await cliStartMs('docker', ['--version']);
    print(`services: CLI start-up (not in the times above): skep ${skepCli.toFixed(0)} ms, docker ${dockerCli.toFixed(0)} ms`);
    return { skep: skepTimes, swarm: swarmTimes, rssKiB: rss };
  } finally {
    await lab.destroy();
  }
}

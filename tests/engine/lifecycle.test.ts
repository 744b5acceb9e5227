// A task's life on a real Docker Engine, state by state, with Swarm's words and Docker's texts.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DockerExecutor } from '../../electron/agent/exec/docker/executor.js';
import { Worker } from '../../electron/agent/worker.js';
import type { AgentTask, PullProgress } from '../../electron/agent/exec/types.js';
import { engineClient, engineSuite, eventually, makeTask, StatusRecorder } from './harness.js';

const suite = engineSuite();
const registry = inject('registryImage');

describe.skipIf(suite.skipReason !== '')('a task on a real Docker Engine', () => {
  const docker = engineClient(suite.host);
  const recorder = new StatusRecorder();
  let worker: Worker;
  const assigned = new Map<string, AgentTask>();
  const pullProgress: { taskId: string; progress: PullProgress }[] = [];

  async function run(task: AgentTask): Promise<void> {
    assigned.set(task.id, task);
    await worker.update({ updated: [task], removed: [] });
  }

  async function setDesired(task: AgentTask, desiredState: AgentTask['desiredState']): Promise<void> {
    const changed = { ...task, desiredState };
    assigned.set(task.id, changed);
    await worker.update({ updated: [changed], removed: [] });
  }

  beforeAll(() => {
    worker = new Worker({
      executor: new DockerExecutor({ host: suite.host }),
      onStatus: recorder.onStatus,
      onPullProgress: (taskId, progress) => pullProgress.push({ taskId, progress }),
      batchDelayMs: 20,
    });
  });

  afterAll(async () => {
    // Every task this file ran goes, with its container.
    await worker?.update({ updated: [], removed: [...assigned.keys()] });
    await worker?.close();
  });

  it('runs a task through every state to RUNNING, then stops it for SHUTDOWN', async () => {
    const task = makeTask(suite.image);
    await run(task);
    const running = await recorder.waitFor(task.id, 'RUNNING');
    expect(recorder.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING']);
    expect(recorder.of(task.id).map((report) => report.message)).toEqual(['accepted', 'preparing', 'prepared', 'starting', 'started']);
    expect(running.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect((await docker.getContainer(running.containerId!).inspect()).State.Running).toBe(true);

    await setDesired(task, 'SHUTDOWN');
    const shutdown = await recorder.waitFor(task.id, 'SHUTDOWN');
    expect(shutdown).toMatchObject({ message: 'shutdown', containerId: running.containerId });
    const stopped = await docker.getContainer(running.containerId!).inspect();
    expect(stopped.State.Running).toBe(false);
    // sleep as PID 1 ignores SIGTERM: the grace period ran out and SIGKILL ended it.
    expect(shutdown.exitCode).toBe(137);
  });

  it('reports COMPLETE for exit 0 and FAILED with "task: non-zero exit (3)" for exit 3', async () => {
    const succeeds = makeTask(suite.image, { spec: { args: ['sh', '-c', 'exit 0'] } });
    const fails = makeTask(suite.image, { spec: { args: ['sh', '-c', 'exit 3'] } });
    await run(succeeds);
    await run(fails);
    expect(await recorder.waitFor(succeeds.id, 'COMPLETE')).toMatchObject({ message: 'finished', exitCode: 0 });
    expect(recorder.of(succeeds.id).some((report) => report.err !== undefined)).toBe(false);
    const failed = await recorder.waitFor(fails.id, 'FAILED');
    expect(failed).toMatchObject({ err: 'task: non-zero exit (3)', exitCode: 3, message: 'started' });
    expect(recorder.states(fails.id)).not.toContain('COMPLETE');
  });

  it("rejects a task whose image the engine doesn't have, with Docker's text", async () => {
    // A registry on loopback that isn't there: the pull fails without leaving the machine.
    const image = '127.0.0.1:9/skep-test/missing:1';
    const task = makeTask(image);
    await run(task);
    const rejected = await recorder.waitFor(task.id, 'REJECTED');
    expect(rejected.err).toBe(`No such image: ${image}`);
    expect(rejected.message).toBe('preparing');
    expect(recorder.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'REJECTED']);
  });

  it.skipIf(registry.skipReason !== '')('pulls a missing image from a registry, with progress, while PREPARING', async () => {
    const task = makeTask(registry.image, { spec: { args: ['cat', '/etc/skep-pulled'] } });
    expect((await docker.listImages({ filters: { reference: [registry.image] } }))).toHaveLength(0);
    await run(task);
    await recorder.waitFor(task.id, 'COMPLETE');
    expect(recorder.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING', 'COMPLETE']);
    const statuses = pullProgress.filter((event) => event.taskId === task.id).map((event) => event.progress.status);
    expect(statuses).toContain('Pull complete');
    expect(statuses.at(-1)).toBe(`Status: Downloaded newer image for ${registry.image}`);
    const lines = [];
    for await (const line of worker.logs(task.id)) lines.push(line.text);
    expect(lines).toEqual(['pulled from the test registry']);
  });

  it('stays STARTING until the healthcheck passes, then RUNNING; unhealthy later → FAILED "unhealthy container"', async () => {
    const task = makeTask(suite.image, {
      // Failures in the start period don't count toward retries: "starting" lasts until the file exists.
      spec: { healthcheck: { test: ['CMD-SHELL', 'test -e /tmp/ready'], intervalMs: 200, timeoutMs: 2000, retries: 2, startPeriodMs: 120_000 } },
    });
    await run(task);
    const starting = await recorder.waitFor(task.id, 'STARTING');
    const container = docker.getContainer(starting.containerId!);
    // A failed probe (health still "starting"), and the task has not moved on.
    await eventually(async () => {
      const health = (await container.inspect()).State.Health;
      return health && health.Log.length >= 1 && health.Status === 'starting' ? true : undefined;
    }, 'a failed health probe');
    expect(recorder.states(task.id)).not.toContain('RUNNING');

    await exec(container, ['touch', '/tmp/ready']);
    await recorder.waitFor(task.id, 'RUNNING');
    expect((await container.inspect()).State.Health?.Status).toBe('healthy');

    await exec(container, ['rm', '/tmp/ready']);
    const failed = await recorder.waitFor(task.id, 'FAILED');
    expect(failed.err).toBe('unhealthy container');
    expect((await container.inspect()).State.Running).toBe(false);
  });

  it('fails a task that never becomes healthy', async () => {
    const task = makeTask(suite.image, { spec: { healthcheck: { test: ['CMD', 'false'], intervalMs: 200, retries: 1 } } });
    await run(task);
    const failed = await recorder.waitFor(task.id, 'FAILED');
    expect(failed.err).toBe('unhealthy container');
    expect(recorder.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'FAILED']);
  });

  it("reports FAILED when the container's process is killed with SIGKILL", async () => {
    const task = makeTask(suite.image);
    await run(task);
    const running = await recorder.waitFor(task.id, 'RUNNING');
    const { Pid } = (await docker.getContainer(running.containerId!).inspect()).State;
    expect(Pid).toBeGreaterThan(0);
    process.kill(Pid, 'SIGKILL');
    const failed = await recorder.waitFor(task.id, 'FAILED');
    expect(failed).toMatchObject({ err: 'task: non-zero exit (137)', exitCode: 137, containerId: running.containerId });
  });

  it('waits at READY while the desired state is READY (a restart delay), and starts when it becomes RUNNING', async () => {
    const task = makeTask(suite.image, { desiredState: 'READY' });
    await run(task);
    const ready = await recorder.waitFor(task.id, 'READY');
    expect((await docker.getContainer(ready.containerId!).inspect()).State.Status).toBe('created');
    await setDesired(task, 'RUNNING');
    await recorder.waitFor(task.id, 'RUNNING');
    expect(recorder.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING']);
  });

  it('removes the container when the desired state is REMOVE', async () => {
    const task = makeTask(suite.image);
    await run(task);
    const running = await recorder.waitFor(task.id, 'RUNNING');
    await setDesired(task, 'REMOVE');
    await recorder.waitFor(task.id, 'SHUTDOWN');
    await eventually(async () => {
      const left = await docker.listContainers({ all: true, filters: { id: [running.containerId!] } });
      return left.length === 0 ? true : undefined;
    }, 'the container to be removed');
  });

  it('batches reports: fewer handovers than reports', () => {
    expect(recorder.batches).toBeGreaterThan(0);
    expect(recorder.batches).toBeLessThan(recorder.reports.length);
  });
});

async function exec(container: ReturnType<ReturnType<typeof engineClient>['getContainer']>, cmd: string[]): Promise<void> {
  const run = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await run.start({});
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.resume();
  });
  const { ExitCode } = await run.inspect();
  if (ExitCode !== 0) throw new Error(`${cmd.join(' ')} exited ${ExitCode}`);
}

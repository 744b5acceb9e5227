// The worker on a real Docker Engine: Swarm's names and labels, adoption after an agent restart,
// removal of what is no longer assigned (only on a complete set), and logs from both streams.
import { afterAll, describe, expect, it } from 'vitest';
import { DockerExecutor } from '../../electron/agent/exec/docker/executor.js';
import { Worker } from '../../electron/agent/worker.js';
import type { AgentTask, LogLine } from '../../electron/agent/exec/types.js';
import { engineClient, engineSuite, eventually, makeTask, newId, StatusRecorder } from './harness.js';

const suite = engineSuite();

describe.skipIf(suite.skipReason !== '')('the worker on a real Docker Engine', () => {
  const docker = engineClient(suite.host);
  const workers: Worker[] = [];
  const containerIds = new Set<string>();

  function newWorker(recorder = new StatusRecorder()): { worker: Worker; recorder: StatusRecorder } {
    const worker = new Worker({ executor: new DockerExecutor({ host: suite.host }), onStatus: recorder.onStatus, batchDelayMs: 20 });
    workers.push(worker);
    return { worker, recorder };
  }

  async function runningContainer(recorder: StatusRecorder, task: AgentTask): Promise<string> {
    const { containerId } = await recorder.waitFor(task.id, 'RUNNING');
    containerIds.add(containerId!);
    return containerId!;
  }

  async function exists(containerId: string): Promise<boolean> {
    return (await docker.listContainers({ all: true, filters: { id: [containerId] } })).length > 0;
  }

  afterAll(async () => {
    for (const worker of workers) await worker.close();
    for (const id of containerIds) {
      if (await exists(id)) await docker.getContainer(id).remove({ force: true, v: true });
    }
  });

  it("names and labels containers as Swarm does (replicated by slot, global by node)", async () => {
    const { worker, recorder } = newWorker();
    const replicated = makeTask(suite.image, { slot: 3, spec: { labels: { tier: 'front' }, env: ['GREETING=hello'] } });
    const global = makeTask(suite.image, { nodeId: newId() });
    const { slot: _slot, ...globalTask } = global;
    await worker.assign([replicated, globalTask]);

    const replicatedInfo = await docker.getContainer(await runningContainer(recorder, replicated)).inspect();
    const name = `${replicated.serviceName}.3.${replicated.id}`;
    expect(replicatedInfo.Name).toBe(`/${name}`);
    expect(replicatedInfo.Config.Labels).toMatchObject({
      'com.docker.swarm.service.id': replicated.serviceId,
      'com.docker.swarm.service.name': replicated.serviceName,
      'com.docker.swarm.task': '',
      'com.docker.swarm.task.id': replicated.id,
      'com.docker.swarm.task.name': name,
      'com.docker.swarm.node.id': replicated.nodeId,
      'io.skep.managed': 'true',
      tier: 'front',
    });
    expect(replicatedInfo.Config.Env).toContain('GREETING=hello');

    const globalInfo = await docker.getContainer(await runningContainer(recorder, globalTask)).inspect();
    expect(globalInfo.Name).toBe(`/${global.serviceName}.${global.nodeId}.${global.id}`);
    await worker.assign([]);
  });

  it('a new worker adopts the running container: same ID, not restarted, no duplicate', async () => {
    const first = newWorker();
    const task = makeTask(suite.image);
    await first.worker.assign([task]);
    const containerId = await runningContainer(first.recorder, task);
    const startedAt = (await docker.getContainer(containerId).inspect()).State.StartedAt;
    // The agent goes away (its process restarts); the container must keep running meanwhile.
    await first.worker.close();
    expect((await docker.getContainer(containerId).inspect()).State.Running).toBe(true);

    // The managers' record is not needed: the container found by label says where the task is.
    const second = newWorker();
    await second.worker.assign([task]);
    const adopted = await second.recorder.waitFor(task.id, 'RUNNING');
    expect(adopted.containerId).toBe(containerId);
    expect(second.recorder.states(task.id)).toEqual(['RUNNING']);
    const after = await docker.getContainer(containerId).inspect();
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).toBe(startedAt);
    const forTask = await docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.task.id=${task.id}`] } });
    expect(forTask.map((container) => container.Id)).toEqual([containerId]);

    // Adopted, it is watched as its own: kill -9 → FAILED.
    process.kill(after.State.Pid, 'SIGKILL');
    expect(await second.recorder.waitFor(task.id, 'FAILED')).toMatchObject({ err: 'task: non-zero exit (137)', containerId });
    await second.worker.assign([]);
  });

  it('a new worker does not start again a task whose container finished while it was away', async () => {
    const first = newWorker();
    const task = makeTask(suite.image);
    await first.worker.assign([task]);
    const containerId = await runningContainer(first.recorder, task);
    await first.worker.close();
    process.kill((await docker.getContainer(containerId).inspect()).State.Pid, 'SIGKILL');
    await eventually(async () => ((await docker.getContainer(containerId).inspect()).State.Running ? undefined : true), 'the container to exit');

    const second = newWorker();
    await second.worker.assign([{ ...task, currentState: 'RUNNING' }]);
    expect(await second.recorder.waitFor(task.id, 'FAILED')).toMatchObject({ err: 'task: non-zero exit (137)', containerId });
    expect((await docker.getContainer(containerId).inspect()).State.Running).toBe(false);
    await second.worker.assign([]);
  });

  it('removes the containers of tasks no longer assigned, and only on a complete set', async () => {
    const first = newWorker();
    const kept = makeTask(suite.image);
    const dropped = makeTask(suite.image);
    const orphan = makeTask(suite.image);
    await first.worker.assign([kept, dropped, orphan]);
    const keptId = await runningContainer(first.recorder, kept);
    const droppedId = await runningContainer(first.recorder, dropped);
    const orphanId = await runningContainer(first.recorder, orphan);
    const keptStartedAt = (await docker.getContainer(keptId).inspect()).State.StartedAt;

    // A complete set without `dropped`: its container goes; `kept` is untouched.
    await first.worker.assign([kept, orphan]);
    expect(await exists(droppedId)).toBe(false);
    expect((await docker.getContainer(keptId).inspect()).State.StartedAt).toBe(keptStartedAt);
    await first.worker.close();

    // A new agent whose managers are unreachable hears nothing, or only changes: nothing is removed.
    const second = newWorker();
    const other = makeTask(suite.image);
    await second.worker.update({ updated: [other], removed: [] });
    await runningContainer(second.recorder, other);
    expect((await docker.getContainer(keptId).inspect()).State.Running).toBe(true);
    expect((await docker.getContainer(orphanId).inspect()).State.Running).toBe(true);

    // The managers are back with the complete set, which no longer has `orphan`: it goes, `kept` stays.
    await second.worker.assign([{ ...kept, currentState: 'RUNNING' }, other]);
    expect(await exists(orphanId)).toBe(false);
    expect((await docker.getContainer(keptId).inspect()).State.StartedAt).toBe(keptStartedAt);
    expect((await second.recorder.waitFor(kept.id, 'RUNNING')).containerId).toBe(keptId);

    await second.worker.update({ updated: [], removed: [kept.id, other.id] });
    expect(await exists(keptId)).toBe(false);
  });

  it("reads a task's logs: both streams, tail, timestamps, follow", async () => {
    const { worker, recorder } = newWorker();
    const script = 'echo out-1; echo err-1 >&2; echo out-2; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done';
    const task = makeTask(suite.image, { spec: { args: ['sh', '-c', script] } });
    await worker.assign([task]);
    await runningContainer(recorder, task);

    const all = await eventually(async () => {
      const lines = await collect(worker.logs(task.id, {}));
      return lines.some((line) => line.text === 'tick-2') ? lines : undefined;
    }, 'two ticks in the log');
    // Docker copies the two streams separately, so only the order within each is defined.
    expect(all.filter((line) => line.stream === 'stdout').slice(0, 3).map((line) => line.text)).toEqual(['out-1', 'out-2', 'tick-1']);
    expect(all.filter((line) => line.stream === 'stderr')).toEqual([{ stream: 'stderr', text: 'err-1' }]);

    const tail = await collect(worker.logs(task.id, { tail: 1, timestamps: true }));
    expect(tail).toHaveLength(1);
    expect(tail[0]!.text).toMatch(/^tick-\d+$/);
    expect(tail[0]!.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$/);

    // Following: lines that did not exist when the stream opened arrive, then the reader stops.
    const abort = new AbortController();
    const followed: LogLine[] = [];
    const lastBefore = Number(tail[0]!.text.slice('tick-'.length));
    for await (const line of worker.logs(task.id, { follow: true, tail: 0, signal: abort.signal })) {
      followed.push(line);
      if (Number(line.text.slice('tick-'.length)) > lastBefore + 2) abort.abort();
    }
    expect(followed.length).toBeGreaterThanOrEqual(2);
    expect(followed.every((line) => line.stream === 'stdout' && /^tick-\d+$/.test(line.text))).toBe(true);

    expect(() => worker.logs(newId())).toThrow(/is not assigned to this node/);
    await worker.assign([]);
  });
});

async function collect(lines: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

// The engine restarts under a running task (dockerd --live-restore keeps containers running): the
// worker waits for it and keeps watching the same container — the task never fails for it.
// This file needs an engine of its own, which it restarts; the suite's shared engine stays as is.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerExecutor } from '../../electron/agent/exec/docker/executor.js';
import { Worker } from '../../electron/agent/worker.js';
import { importBusyboxImage } from '../support/busybox-image.js';
import { startDockerd, type TestEngine } from '../support/dockerd.js';
import { engineClient, engineSuite, eventually, makeTask, StatusRecorder } from './harness.js';

const suite = engineSuite();
const LIVE_RESTORE = ['--live-restore'];

describe.skipIf(suite.skipReason !== '')('an engine restart under a running task', () => {
  let workDir: string;
  let engine: TestEngine;
  let worker: Worker;
  const recorder = new StatusRecorder();

  async function answering(host: string): Promise<void> {
    await eventually(async () => {
      try {
        await engineClient(host).ping();
        return true;
      } catch {
        return undefined;
      }
    }, 'the engine to answer', 60_000);
  }

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'skep-engine-restart-'));
    engine = await startDockerd(workDir, LIVE_RESTORE);
    await answering(engine.host);
    await importBusyboxImage(engineClient(engine.host), workDir, suite.image);
    worker = new Worker({ executor: new DockerExecutor({ host: engine.host }), onStatus: recorder.onStatus, batchDelayMs: 20, retryDelayMs: 200 });
  });

  afterAll(async () => {
    await worker?.close();
    if (engine) {
      const docker = engineClient(engine.host);
      // Containers first (by ID), so no shim outlives the engine; then the image, by ID.
      for (const container of await docker.listContainers({ all: true })) await docker.getContainer(container.Id).remove({ force: true, v: true });
      for (const image of await docker.listImages({ all: true })) await docker.getImage(image.Id).remove({ force: true });
      await engine.stop();
    }
    if (workDir) {
      // With --live-restore, dockerd leaves its data root bind-mounted on itself when it exits.
      const dataRoot = path.join(workDir, 'dockerd', 'data');
      const mounts = await readFile('/proc/mounts', 'utf8');
      if (mounts.split('\n').some((line) => line.split(' ')[1] === dataRoot)) execFileSync('umount', [dataRoot]);
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it('keeps the task RUNNING on the same container, and still sees its exit afterwards', async () => {
    const task = makeTask(suite.image);
    await worker.assign([task]);
    const { containerId } = await recorder.waitFor(task.id, 'RUNNING');
    const docker = engineClient(engine.host);
    const before = (await docker.getContainer(containerId!).inspect()).State;

    await engine.stop();
    engine = await startDockerd(workDir, LIVE_RESTORE);
    await answering(engine.host);

    const after = (await docker.getContainer(containerId!).inspect()).State;
    expect(after.Running).toBe(true);
    expect(after.StartedAt).toBe(before.StartedAt);
    expect(recorder.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING']);

    // The runner is watching again (a fresh wait on the new engine): a kill -9 is seen.
    process.kill(after.Pid, 'SIGKILL');
    expect(await recorder.waitFor(task.id, 'FAILED')).toMatchObject({ err: 'task: non-zero exit (137)', containerId });
  });
});

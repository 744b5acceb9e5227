// One real Docker Engine for the whole engine suite (its own roots and socket, no bridge, no
// iptables rules) with a local busybox image; at the end every container the suite made and the
// image are removed by ID, the engine stopped and its folder deleted.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { busyboxUnavailableReason, importBusyboxImage } from '../support/busybox-image.js';
import { dockerdUnavailableReason, startDockerd } from '../support/dockerd.js';

export const TEST_IMAGE = 'skep-test/busybox:1';

declare module 'vitest' {
  export interface ProvidedContext {
    engineSuite: { host: string; image: string; skipReason: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const skipReason = dockerdUnavailableReason() ?? busyboxUnavailableReason();
  if (skipReason) {
    project.provide('engineSuite', { host: '', image: '', skipReason });
    return async () => {};
  }
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'skep-engine-'));
  const engine = await startDockerd(workDir);
  const docker = new Docker({ socketPath: engine.host.slice('unix://'.length) });
  let imageId: string | undefined;
  try {
    imageId = await importBusyboxImage(docker, workDir, TEST_IMAGE);
  } catch (error) {
    await engine.stop();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  project.provide('engineSuite', { host: engine.host, image: TEST_IMAGE, skipReason: '' });

  return async () => {
    // The engine is the suite's own, so everything on it is the suite's: remove it all by ID.
    const containers = await docker.listContainers({ all: true });
    for (const container of containers) await docker.getContainer(container.Id).remove({ force: true, v: true });
    if (imageId) await docker.getImage(imageId).remove({ force: true });
    await engine.stop();
    await rm(workDir, { recursive: true, force: true });
  };
}

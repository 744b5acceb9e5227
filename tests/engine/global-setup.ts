// One real Docker Engine for the whole engine suite (its own roots and socket, no bridge, no
// iptables rules) with a local busybox image, and a real registry on loopback holding the same
// image under another name (for pulls). At the end every container and image the suite made is
// removed by ID, the engine and the registry stopped and their folder deleted.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { busyboxUnavailableReason, importBusyboxImage } from '../support/busybox-image.js';
import { dockerdUnavailableReason, startDockerd } from '../support/dockerd.js';
import { registryUnavailableReason, startRegistry, type TestRegistry } from '../support/registry.js';

export const TEST_IMAGE = 'skep-test/busybox:1';

declare module 'vitest' {
  export interface ProvidedContext {
    engineSuite: { host: string; image: string; skipReason: string };
    /** An image only the registry has (the engine must pull it), or why there is none. */
    registryImage: { image: string; skipReason: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const skipReason = dockerdUnavailableReason() ?? busyboxUnavailableReason();
  if (skipReason) {
    project.provide('engineSuite', { host: '', image: '', skipReason });
    project.provide('registryImage', { image: '', skipReason });
    return async () => {};
  }
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'skep-engine-'));
  const engine = await startDockerd(workDir);
  const docker = new Docker({ socketPath: engine.host.slice('unix://'.length) });
  let registry: TestRegistry | undefined;
  const teardown = async (): Promise<void> => {
    // The engine is the suite's own, so everything on it is the suite's: remove it all by ID.
    const containers = await docker.listContainers({ all: true });
    for (const container of containers) await docker.getContainer(container.Id).remove({ force: true, v: true });
    const images = await docker.listImages({ all: true });
    for (const image of images) await docker.getImage(image.Id).remove({ force: true });
    await registry?.stop();
    await engine.stop();
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    await importBusyboxImage(docker, workDir, TEST_IMAGE);
    project.provide('engineSuite', { host: engine.host, image: TEST_IMAGE, skipReason: '' });
    const noRegistry = registryUnavailableReason();
    if (noRegistry) {
      project.provide('registryImage', { image: '', skipReason: noRegistry });
    } else {
      registry = await startRegistry(workDir);
      project.provide('registryImage', { image: await pushedOnly(docker, workDir, registry.address), skipReason: '' });
    }
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

/** An image with a layer of its own, pushed to the registry and then removed from the engine. */
async function pushedOnly(docker: Docker, workDir: string, registry: string): Promise<string> {
  const image = `${registry}/skep-test/pulled:1`;
  const imageId = await importBusyboxImage(docker, workDir, image, { 'etc/skep-pulled': 'pulled from the test registry\n' });
  const push = await docker.getImage(image).push({ authconfig: {} });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(push, (error: Error | null, events: { error?: string }[]) => {
      const failed = events.find((event) => event.error);
      if (error || failed) reject(error ?? new Error(failed?.error));
      else resolve();
    });
  });
  await docker.getImage(imageId).remove({ force: true });
  return image;
}

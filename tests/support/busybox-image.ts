// A local image for engine tests (no registry here): Debian's static busybox in a root filesystem,
// imported into the given engine as `docker import` does.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type Docker from 'dockerode';

export const BUSYBOX = '/bin/busybox';

export function busyboxUnavailableReason(): string | undefined {
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (Debian: apt-get install -y busybox-static; .ci/run does this)`;
  return undefined;
}

/** Imports busybox as `name` and returns the image's ID. */
export async function importBusyboxImage(docker: Docker, workDir: string, name: string): Promise<string> {
  const rootfs = path.join(workDir, 'busybox-rootfs');
  await mkdir(path.join(rootfs, 'bin'), { recursive: true });
  await mkdir(path.join(rootfs, 'tmp'), { recursive: true });
  await copyFile(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((applet) => applet && applet !== 'busybox');
  for (const applet of applets) await symlink('busybox', path.join(rootfs, 'bin', applet));

  const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [repo, tag] = name.split(':');
  const stream = await docker.importImage(tar.stdout, { repo, tag: tag ?? 'latest' });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, events: { error?: string }[]) => {
      const failed = events.find((event) => event.error);
      if (error || failed) reject(error ?? new Error(failed?.error));
      else resolve();
    });
  });
  const image = await docker.getImage(name).inspect();
  return image.Id;
}

// A local image for engine tests (no registry here): Debian's static busybox in a root filesystem,
// imported into the given engine as `docker import` does.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type Docker from 'dockerode';

export const BUSYBOX = '/bin/busybox';

export function busyboxUnavailableReason(): string | undefined {
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (Debian: apt-get install -y busybox-static; .ci/run does this)`;
  return undefined;
}

/** Imports busybox (plus `extraFiles`, path → content) as `name` and returns the image's ID. */
export async function importBusyboxImage(docker: Docker, workDir: string, name: string, extraFiles: Readonly<Record<string, string>> = {}): Promise<string> {
  const rootfs = path.join(workDir, `rootfs-${name.replace(/[^\w.-]/g, '_')}`);
  await mkdir(path.join(rootfs, 'bin'), { recursive: true });
  await mkdir(path.join(rootfs, 'tmp'), { recursive: true });
  for (const [file, content] of Object.entries(extraFiles)) {
    await mkdir(path.dirname(path.join(rootfs, file)), { recursive: true });
    await writeFile(path.join(rootfs, file), content);
  }
  await copyFile(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((applet) => applet && applet !== 'busybox');
  for (const applet of applets) await symlink('busybox', path.join(rootfs, 'bin', applet));

  const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  // The tag follows the last ':' after the last '/' (a registry's host:port has a ':' too).
  const tagAt = name.lastIndexOf(':');
  const hasTag = tagAt > name.lastIndexOf('/');
  const repo = hasTag ? name.slice(0, tagAt) : name;
  const tag = hasTag ? name.slice(tagAt + 1) : 'latest';
  const stream = await docker.importImage(tar.stdout, { repo, tag });
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

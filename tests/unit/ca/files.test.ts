import { mkdtemp, mkdir, readdir, readFile, rm, stat, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureSecretDir, writeSecretFile } from '../../../electron/swarm/ca/index.js';

const posix = process.platform !== 'win32';
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'skep-ca-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe.runIf(posix)('secret files', () => {
  it('are written 0600 in 0700 directories, whatever the umask', async () => {
    const previous = process.umask(0o000);
    try {
      const path = join(root, 'a', 'b', 'node.key');
      await writeSecretFile(path, 'KEY MATERIAL');
      expect(await readFile(path, 'utf8')).toBe('KEY MATERIAL');
      expect(await mode(path)).toBe(0o600);
      expect(await mode(join(root, 'a', 'b'))).toBe(0o700);
      expect(await mode(join(root, 'a'))).toBe(0o700);
    } finally {
      process.umask(previous);
    }
  });

  it('replace an existing file atomically and leave no temporary files', async () => {
    const dir = join(root, 'certs');
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    const path = join(dir, 'node.key');
    await writeSecretFile(path, 'one');
    await chmod(path, 0o644);
    await writeSecretFile(path, new Uint8Array([116, 119, 111]));
    expect(await readFile(path, 'utf8')).toBe('two');
    expect(await mode(path)).toBe(0o600);
    // An existing, too-open directory is tightened.
    expect(await mode(dir)).toBe(0o700);
    expect(await readdir(dir)).toEqual(['node.key']);
  });

  it('ensureSecretDir tightens an existing directory', async () => {
    const dir = join(root, 'data');
    await mkdir(dir, { mode: 0o777 });
    await chmod(dir, 0o777);
    await ensureSecretDir(dir);
    expect(await mode(dir)).toBe(0o700);
  });
});

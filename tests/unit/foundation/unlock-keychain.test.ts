// The desktop app's keychain for the unlock key. Electron's safeStorage cannot run here (no Electron
// binary): a stand-in sealer plays it, and a stand-in node plays the daemon's locked state.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SkepService } from '../../../shared/api.js';
import { skepError } from '../../../shared/errors.js';
import type { SwarmStatus } from '../../../shared/types.js';
import { unlockKeychain } from '../../../electron/main/unlock-keychain.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Stand-in for safeStorage: reversible, and visibly not the clear text. */
const sealer = {
  seal: (plain: string) => Buffer.from([...Buffer.from(plain)].map((b) => b ^ 0x5a)),
  open: (sealed: Buffer) => Buffer.from([...sealed].map((b) => b ^ 0x5a)).toString(),
};

function lockedNode(goodKey: string): { service: SkepService; state: () => SwarmStatus['state']; tries: string[] } {
  let state: SwarmStatus['state'] = 'locked';
  const tries: string[] = [];
  const node = {
    getSwarmStatus: async () => (state === 'locked' ? { state, nodeId: 'n', clusterId: 'c', role: 'manager', nodeAddr: 'a' } : { state: 'inactive' }),
    swarmUnlock: async ({ key }: { key: string }) => {
      tries.push(key);
      if (key !== goodKey) throw skepError('UNLOCK_INVALID_KEY');
      state = 'active';
    },
    nodeList: async function (this: unknown) {
      return this === node ? [] : Promise.reject(new Error('called on the wrong object'));
    },
  };
  return { service: node as unknown as SkepService, state: () => state, tries };
}

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'skep-keychain-'));
  dirs.push(dir);
  return path.join(dir, 'unlock-key.sealed');
}

describe('the unlock key in the keychain', () => {
  it('is kept sealed only when asked, and unlocks the next start by itself', async () => {
    const file = await tempFile();
    const first = lockedNode('SKEPKEY-1-good');
    const keychain = unlockKeychain(first.service, sealer, file);
    await keychain.service.swarmUnlock({ key: 'SKEPKEY-1-good', remember: true });
    expect((await readFile(file)).includes('SKEPKEY')).toBe(false);
    expect(await keychain.service.nodeList()).toEqual([]);

    const next = lockedNode('SKEPKEY-1-good');
    expect(await unlockKeychain(next.service, sealer, file).unlockAtStart()).toBe('unlocked');
    expect(next.state()).toBe('active');
  });

  it('forgets a key that no longer unlocks, and keeps nothing without a keychain or when not asked', async () => {
    const file = await tempFile();
    await unlockKeychain(lockedNode('old').service, sealer, file).service.swarmUnlock({ key: 'old', remember: true });
    const rotated = lockedNode('new');
    expect(await unlockKeychain(rotated.service, sealer, file).unlockAtStart()).toBe('key-refused');
    expect(rotated.state()).toBe('locked');
    expect(await unlockKeychain(lockedNode('new').service, sealer, file).unlockAtStart()).toBe('nothing-remembered');

    await unlockKeychain(lockedNode('k').service, undefined, file).service.swarmUnlock({ key: 'k', remember: true });
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
    await unlockKeychain(lockedNode('k').service, sealer, file).service.swarmUnlock({ key: 'k' });
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
    await expect(unlockKeychain(lockedNode('k').service, sealer, file).service.swarmUnlock({ key: 'wrong', remember: true })).rejects.toMatchObject({ code: 'UNLOCK_INVALID_KEY' });
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  });
});

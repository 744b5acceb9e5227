// A manager's keys at rest, on real files: wrapped by the unlock key with autolock, a wrong key
// refused, the previous key honoured only within its grace period, and autolock off.
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AtRest } from '../../../electron/node/at-rest.js';
import { LocalStore, type NodeCredentials } from '../../../electron/node/local-state.js';
import { newUnlockKey } from '../../../electron/swarm/ca/unlock-key.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function store(): Promise<LocalStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'skep-atrest-'));
  dirs.push(dir);
  return new LocalStore(dir);
}

const credentials: NodeCredentials = { certPem: 'CERT', keyPem: '-----BEGIN PRIVATE KEY-----\nNODE-KEY-SECRET\n-----END PRIVATE KEY-----\n', caCertPem: 'CA' };
const exists = (file: string): Promise<boolean> => access(file).then(() => true, () => false);
const reseal = async (): Promise<void> => {};

describe('AtRest', () => {
  it('with autolock, keeps the data key and the TLS key only wrapped; a restart is locked; a wrong key is refused', async () => {
    const local = await store();
    const kek = newUnlockKey();
    const atRest = new AtRest(local);
    atRest.reset(kek, credentials.keyPem);
    await atRest.saveCredentials(credentials);
    const cipher = await atRest.managerCipher();
    const keysFile = path.join(local.swarmDir, 'certificates', 'raft-keys.json');
    const text = await readFile(keysFile, 'utf8');
    expect(text).not.toContain('NODE-KEY-SECRET');
    expect(await exists(path.join(local.swarmDir, 'certificates', 'node.key'))).toBe(false);

    const restarted = new AtRest(local);
    expect(await restarted.load()).toBe('locked');
    await expect(restarted.unlock(newUnlockKey())).rejects.toMatchObject({ code: 'UNLOCK_INVALID_KEY', message: 'swarm could not be unlocked: invalid key provided' });
    expect(await restarted.unlock(kek)).toBe(credentials.keyPem);
    // The same data key: what the manager sealed before the restart opens now.
    const sealed = cipher.seal(Buffer.from('entry'), Buffer.from('ctx'));
    expect(Buffer.from((await restarted.managerCipher()).open(sealed, Buffer.from('ctx'))).toString()).toBe('entry');
  });

  it('after a rotation the previous key unlocks within its grace period, and not after it', async () => {
    const local = await store();
    const first = newUnlockKey();
    const second = newUnlockKey();
    const atRest = new AtRest(local, 60_000);
    atRest.reset(first, credentials.keyPem);
    await atRest.saveCredentials(credentials);
    expect(await atRest.follow(second, credentials, reseal)).toBe('rotated');
    expect(await new AtRest(local).unlock(first)).toBe(credentials.keyPem);
    expect(await new AtRest(local).unlock(second)).toBe(credentials.keyPem);

    const expiring = new AtRest(local, 1);
    expiring.reset(first, credentials.keyPem);
    await expiring.saveCredentials(credentials);
    await expiring.follow(second, credentials, reseal);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(new AtRest(local).unlock(first)).rejects.toMatchObject({ code: 'UNLOCK_INVALID_KEY' });
    expect(await new AtRest(local).unlock(second)).toBe(credentials.keyPem);
  });

  it('autolock on rotates the data key (saved before use) and reseals; off puts the keys in clear files again', async () => {
    const local = await store();
    const atRest = new AtRest(local);
    atRest.reset(undefined, credentials.keyPem);
    await atRest.saveCredentials(credentials);
    const cipher = await atRest.managerCipher();
    const before = cipher.seal(Buffer.from('old'), Buffer.from('c'));
    let resealedWith: boolean | undefined;
    const kek = newUnlockKey();
    expect(await atRest.follow(kek, credentials, async () => {
      // During the reseal both keys open, and the key file already names the new key (wrapped).
      resealedWith = !cipher.isCurrent(before) && (await new AtRest(local).load()) === 'locked';
      cipher.open(before, Buffer.from('c'));
    })).toBe('locked');
    expect(resealedWith).toBe(true);
    expect(() => cipher.open(before, Buffer.from('c'))).toThrow(/does not hold/);
    expect(await exists(path.join(local.swarmDir, 'certificates', 'node.key'))).toBe(false);

    expect(await atRest.follow(undefined, credentials, reseal)).toBe('unlocked');
    expect(await new AtRest(local).load()).toBe('open');
    expect(await readFile(path.join(local.swarmDir, 'certificates', 'node.key'), 'utf8')).toBe(credentials.keyPem);
    expect(await atRest.follow(undefined, credentials, reseal)).toBe('unchanged');
  });
});

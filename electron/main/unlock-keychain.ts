// Autolock in the desktop app: when the person asks it to, the swarm's unlock key is kept sealed by
// the OS keychain (safeStorage, through the SecretSealer), and a locked manager is unlocked with it
// when the app starts. Without a keychain (Linux's basic_text backend) nothing is remembered: a key
// next to the data it unlocks would make autolock pointless.
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { SkepService } from '../../shared/api.js';
import type { SecretSealer } from '../node/local-state.js';

export interface UnlockKeychain {
  /** The service the window talks to: `swarmUnlock({remember})` keeps (or forgets) the key after a success. */
  readonly service: SkepService;
  /** Unlocks a locked manager with the remembered key; a key that no longer unlocks is forgotten. */
  unlockAtStart(): Promise<'unlocked' | 'nothing-remembered' | 'not-locked' | 'key-refused'>;
}

export function unlockKeychain(inner: SkepService, sealer: SecretSealer | undefined, file: string): UnlockKeychain {
  const swarmUnlock: SkepService['swarmUnlock'] = async (request) => {
    await inner.swarmUnlock({ key: request.key });
    if (request.remember && sealer) await writeFile(file, sealer.seal(request.key.trim()), { mode: 0o600 });
    else await rm(file, { force: true });
  };
  // Everything else is the node's own method, called on the node itself.
  const service = new Proxy(inner, {
    get(target, property) {
      if (property === 'swarmUnlock') return swarmUnlock;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    service,
    async unlockAtStart() {
      if (!sealer) return 'nothing-remembered';
      let sealed: Buffer;
      try {
        sealed = await readFile(file);
      } catch {
        return 'nothing-remembered';
      }
      if ((await inner.getSwarmStatus()).state !== 'locked') return 'not-locked';
      try {
        await inner.swarmUnlock({ key: sealer.open(sealed) });
        return 'unlocked';
      } catch {
        // Rotated past its grace period, or the keychain changed: the window asks instead.
        await rm(file, { force: true });
        return 'key-refused';
      }
    },
  };
}

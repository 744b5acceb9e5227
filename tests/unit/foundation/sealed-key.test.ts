// The node key at rest: sealed when the desktop app has an OS keychain, plain (0600) otherwise.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { safeStorageSealer } from '../../../electron/main/secret-sealer.js';
import { LocalStore, type SecretSealer } from '../../../electron/node/local-state.js';

const credentials = { certPem: 'CERT PEM', keyPem: '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n', caCertPem: 'CA PEM' };

/** Stand-in for Electron's safeStorage (its binary can't run here): a reversible scramble. */
class SafeStorageStandIn {
  constructor(
    private readonly available: boolean,
    private readonly backend = 'gnome_libsecret',
  ) {}
  isEncryptionAvailable(): boolean {
    return this.available;
  }
  getSelectedStorageBackend(): string {
    return this.backend;
  }
  encryptString(plain: string): Buffer {
    return Buffer.from(Buffer.from(plain).map((b) => b ^ 0x5a));
  }
  decryptString(sealed: Buffer): string {
    return Buffer.from(sealed.map((b) => b ^ 0x5a)).toString();
  }
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skep-sealed-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the node key at rest', () => {
  it('is sealed when a sealer is given: no plain key on disk, and it reads back', async () => {
    const dir = tempDir();
    const sealer = safeStorageSealer(new SafeStorageStandIn(true)) as SecretSealer;
    await new LocalStore(dir, sealer).saveCredentials(credentials);
    const certDir = path.join(dir, 'swarm', 'certificates');
    expect(existsSync(path.join(certDir, 'node.key'))).toBe(false);
    const sealed = readFileSync(path.join(certDir, 'node.key.sealed'));
    expect(sealed.toString()).not.toContain('PRIVATE KEY');
    expect(statSync(path.join(certDir, 'node.key.sealed')).mode & 0o777).toBe(0o600);
    await expect(new LocalStore(dir, sealer).loadCredentials()).resolves.toEqual(credentials);
  });

  it('refuses clearly to read a sealed key without the keychain', async () => {
    const dir = tempDir();
    await new LocalStore(dir, safeStorageSealer(new SafeStorageStandIn(true))).saveCredentials(credentials);
    await expect(new LocalStore(dir).loadCredentials()).rejects.toThrow(/sealed with the desktop app's keychain/);
  });

  it('is a 0600 file without a sealer, and switching replaces the other form', async () => {
    const dir = tempDir();
    const certDir = path.join(dir, 'swarm', 'certificates');
    await new LocalStore(dir, safeStorageSealer(new SafeStorageStandIn(true))).saveCredentials(credentials);
    await new LocalStore(dir).saveCredentials(credentials);
    expect(existsSync(path.join(certDir, 'node.key.sealed'))).toBe(false);
    expect(statSync(path.join(certDir, 'node.key')).mode & 0o777).toBe(0o600);
    await expect(new LocalStore(dir).loadCredentials()).resolves.toEqual(credentials);
  });

  it('uses no sealer where the OS offers no real encryption', () => {
    expect(safeStorageSealer(new SafeStorageStandIn(false))).toBeUndefined();
    if (process.platform === 'linux') expect(safeStorageSealer(new SafeStorageStandIn(true, 'basic_text'))).toBeUndefined();
  });
});

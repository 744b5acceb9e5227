// The node's private key sealed with the OS keychain (Keychain, DPAPI, libsecret/kwallet) through
// Electron's safeStorage — part of Electron's security checklist for secrets at rest.
import type { SafeStorage } from 'electron';
import type { SecretSealer } from '../node/local-state.js';

/**
 * A sealer when the OS offers real encryption; undefined otherwise (Linux without a keyring gives
 * only a hard-coded key, "basic_text", which would be theatre: file modes protect the key instead).
 */
export function safeStorageSealer(safeStorage: Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'> & { getSelectedStorageBackend?: () => string }): SecretSealer | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  if (process.platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text') return undefined;
  return {
    seal: (plain) => safeStorage.encryptString(plain),
    open: (sealed) => safeStorage.decryptString(sealed),
  };
}

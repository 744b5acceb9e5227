// What a node keeps about its own membership, outside Raft: who it is, which swarm, its role,
// where it listens, which managers it knows, and its key material. Workers have only this.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { NodeRole } from '../../shared/types.js';
import { ensureSecretDir, writeSecretFile } from '../swarm/ca/index.js';

export interface LocalSwarmState {
  readonly version: 1;
  readonly nodeId: string;
  readonly clusterId: string;
  readonly role: NodeRole;
  /** host:port the cluster listener binds. */
  readonly listenAddr: string;
  /** host:port other nodes use to reach this one. */
  readonly advertiseAddr: string;
  /** Cluster addresses of managers this node knows, for workers to find the leader after restarts. */
  readonly managerAddrs: readonly string[];
  /** The same managers with the node IDs their answers gave: agents dial them by ID, not address alone. */
  readonly managers?: readonly { readonly nodeId: string; readonly addr: string }[];
  /** Set when a manager told this node it was removed: it stays out until `swarm leave --force`. */
  readonly removed?: boolean;
}

export interface NodeCredentials {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caCertPem: string;
}

/**
 * Seals the node's private key at rest with the operating system's keychain (the desktop app
 * passes Electron's safeStorage). Headless daemons rely on file modes alone, as dockerd does.
 */
export interface SecretSealer {
  seal(plain: string): Buffer;
  open(sealed: Buffer): string;
}

/**
 * A manager's keys for encryption at rest (`certificates/raft-keys.json`). Without autolock the
 * Raft data key is kept as it is (file mode 0600, as Swarm keeps it in its key file's headers);
 * with autolock it and the node's TLS key exist only wrapped by unlock keys — the current one,
 * and for a while after a rotation the previous one too.
 */
export type AtRestKeyFile =
  | {
      readonly version: 1;
      readonly autolock: false;
      /** base64 */
      readonly dataKey: string;
      /** A rotation in progress: data under this key is resealed at the next start. */
      readonly previousDataKey?: string;
    }
  | { readonly version: 1; readonly autolock: true; readonly wraps: readonly KeyWrap[] };

export interface KeyWrap {
  /** Which unlock key wrapped these (a hash of it). */
  readonly unlockKeyId: string;
  /** A previous unlock key's wrap is honoured until then (ISO 8601); the current one's has none. */
  readonly validUntil?: string;
  readonly dataKey: string;
  readonly previousDataKey?: string;
  readonly nodeKey: string;
}

export class LocalStore {
  readonly swarmDir: string;
  readonly raftDir: string;

  constructor(
    dataDir: string,
    private readonly sealer?: SecretSealer,
  ) {
    this.swarmDir = path.join(dataDir, 'swarm');
    this.raftDir = path.join(this.swarmDir, 'raft');
  }

  private file(name: string): string {
    return path.join(this.swarmDir, name);
  }

  async load(): Promise<LocalSwarmState | null> {
    let text: string;
    try {
      text = await readFile(this.file('state.json'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const state = JSON.parse(text) as LocalSwarmState;
      if (state.version !== 1 || typeof state.nodeId !== 'string') throw new Error('unknown format');
      return state;
    } catch (error) {
      throw new Error(`The swarm state file ${this.file('state.json')} is damaged (${(error as Error).message}). Move it away and run "skep swarm join" again.`);
    }
  }

  async save(state: LocalSwarmState): Promise<void> {
    await ensureSecretDir(this.swarmDir);
    await writeSecretFile(this.file('state.json'), JSON.stringify(state, null, 2));
  }

  /** The node's certificates and key; `keyPem` when the key came from elsewhere (unwrapped at unlock). */
  async loadCredentials(keyPem?: string): Promise<NodeCredentials> {
    const dir = this.file('certificates');
    const [certPem, caCertPem] = await Promise.all([readFile(path.join(dir, 'node.crt'), 'utf8'), readFile(path.join(dir, 'ca.crt'), 'utf8')]);
    return { certPem, keyPem: keyPem ?? (await this.loadKey(dir)), caCertPem };
  }

  async loadAtRestKeys(): Promise<AtRestKeyFile | null> {
    const file = path.join(this.file('certificates'), 'raft-keys.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const keys = JSON.parse(text) as AtRestKeyFile;
      if (keys.version !== 1 || typeof keys.autolock !== 'boolean') throw new Error('unknown format');
      return keys;
    } catch (error) {
      throw new Error(`The manager's key file ${file} is damaged (${(error as Error).message}). Restore it from a backup, or leave the swarm with "skep swarm leave --force" and join again.`);
    }
  }

  /** Written atomically (temp file, fsync, rename, directory fsync): a crash leaves the old file or the new. */
  async saveAtRestKeys(keys: AtRestKeyFile): Promise<void> {
    const dir = this.file('certificates');
    await ensureSecretDir(dir);
    await writeSecretFile(path.join(dir, 'raft-keys.json'), JSON.stringify(keys));
  }

  async removeAtRestKeys(): Promise<void> {
    await rm(path.join(this.file('certificates'), 'raft-keys.json'), { force: true });
  }

  /** Autolock: the node key lives only wrapped in the key file; its clear (or OS-sealed) copies go. */
  async saveCertificatesOnly(credentials: NodeCredentials): Promise<void> {
    const dir = this.file('certificates');
    await ensureSecretDir(dir);
    await writeSecretFile(path.join(dir, 'node.crt'), credentials.certPem);
    await writeSecretFile(path.join(dir, 'ca.crt'), credentials.caCertPem);
    await rm(path.join(dir, 'node.key'), { force: true });
    await rm(path.join(dir, 'node.key.sealed'), { force: true });
  }

  private async loadKey(dir: string): Promise<string> {
    let sealed: Buffer | undefined;
    try {
      sealed = await readFile(path.join(dir, 'node.key.sealed'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (sealed === undefined) return readFile(path.join(dir, 'node.key'), 'utf8');
    if (!this.sealer) throw new Error(`The node key in ${dir} is sealed with the desktop app's keychain; start Skep's desktop app to use this data folder.`);
    return this.sealer.open(sealed);
  }

  async saveCredentials(credentials: NodeCredentials): Promise<void> {
    const dir = this.file('certificates');
    await ensureSecretDir(dir);
    if (this.sealer) {
      await writeSecretFile(path.join(dir, 'node.key.sealed'), this.sealer.seal(credentials.keyPem));
      await rm(path.join(dir, 'node.key'), { force: true });
    } else {
      await writeSecretFile(path.join(dir, 'node.key'), credentials.keyPem);
      await rm(path.join(dir, 'node.key.sealed'), { force: true });
    }
    await writeSecretFile(path.join(dir, 'node.crt'), credentials.certPem);
    await writeSecretFile(path.join(dir, 'ca.crt'), credentials.caCertPem);
  }

  /** Forgets the swarm: state, keys and the Raft log. */
  async wipe(): Promise<void> {
    await rm(this.swarmDir, { recursive: true, force: true });
  }

  async wipeRaft(): Promise<void> {
    await rm(this.raftDir, { recursive: true, force: true });
  }
}

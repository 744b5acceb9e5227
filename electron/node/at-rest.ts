// Encryption at rest and autolock on one manager: its Raft data key (DEK), the unlock key (KEK)
// the swarm replicates through Raft, and the key file that keeps them (local-state.ts). Always on:
// the Raft storage seals entry and snapshot data with the DEK. With autolock the DEK and the TLS
// key exist on disk only wrapped by unlock keys, so a restarted manager stays locked until a person
// gives it the key. The store says what the swarm wants (`cluster.unlockKey`); `follow` makes this
// manager's files match: autolock on → a new DEK (the old one sat in clear) and everything
// resealed; a rotated unlock key → rewrapped, the previous key honoured for a grace period; off →
// the DEK and TLS key in clear files again (mode 0600), as Swarm does.
import { skepError } from '../../shared/errors.js';
import { AesGcmCipher } from '../raft/storage/cipher.js';
import { newDataKey, unlockKeyId, unwrapSecret, wrapSecret } from '../swarm/ca/index.js';
import type { AtRestKeyFile, KeyWrap, LocalStore, NodeCredentials } from './local-state.js';

/** How long the previous unlock key still unlocks after a rotation (Docker advises keeping it a few minutes). */
export const PREVIOUS_UNLOCK_KEY_GRACE_MS = 10 * 60_000;

const b64 = (key: Uint8Array): string => Buffer.from(key).toString('base64');

export class AtRest {
  private dataKey: Buffer | undefined;
  private previousDataKey: Buffer | undefined;
  private unlockKey: Buffer | undefined;
  private previousUnlockKey: { key: Buffer; until: number } | undefined;
  /** The previous key's wrap as found at unlock (its key is not known here): kept until it expires. */
  private carried: KeyWrap[] = [];
  private nodeKeyPem: string | undefined;
  private cipherInstance: AesGcmCipher | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly local: LocalStore,
    private readonly graceMs = PREVIOUS_UNLOCK_KEY_GRACE_MS,
  ) {}

  /** Whether autolock is on for this node (the swarm's setting as this manager last followed it). */
  get autolock(): boolean {
    return this.unlockKey !== undefined;
  }

  /** At start: 'locked' when the keys are wrapped (autolock); otherwise the clear data key is loaded. */
  async load(): Promise<'locked' | 'open'> {
    const file = await this.local.loadAtRestKeys();
    this.clear();
    if (file === null) return 'open';
    if (file.autolock) return 'locked';
    this.dataKey = Buffer.from(file.dataKey, 'base64');
    this.previousDataKey = file.previousDataKey ? Buffer.from(file.previousDataKey, 'base64') : undefined;
    return 'open';
  }

  /**
   * Unwraps the data key and the node's TLS key with `key` — the current unlock key or, within its
   * grace period, the previous one. Returns the TLS key; a wrong key gets Docker's refusal.
   */
  async unlock(key: Buffer): Promise<string> {
    const file = await this.local.loadAtRestKeys();
    if (!file?.autolock) throw skepError('SWARM_NOT_LOCKED');
    const id = unlockKeyId(key);
    const now = Date.now();
    const wrap = file.wraps.find((w) => w.unlockKeyId === id && (w.validUntil === undefined || Date.parse(w.validUntil) > now));
    const dataKey = wrap && unwrapSecret(key, wrap.dataKey, 'raft-data-key');
    const nodeKey = wrap && unwrapSecret(key, wrap.nodeKey, 'node-private-key');
    const previousDataKey = wrap?.previousDataKey === undefined ? undefined : unwrapSecret(key, wrap.previousDataKey, 'raft-data-key');
    if (!wrap || !dataKey || !nodeKey || previousDataKey === null) throw skepError('UNLOCK_INVALID_KEY');
    this.clear();
    this.dataKey = dataKey;
    this.previousDataKey = previousDataKey;
    this.unlockKey = Buffer.from(key);
    // The previous key's wrap, still in its grace period, is carried over until it expires.
    this.carried = file.wraps.filter((w) => w !== wrap && w.validUntil !== undefined && Date.parse(w.validUntil) > now);
    for (const w of this.carried) this.scheduleGraceEnd(Date.parse(w.validUntil!));
    this.nodeKeyPem = nodeKey.toString('utf8');
    // A crash while autolock was turned on can leave the clear key file beside the wrapped one.
    await this.local.saveCertificatesOnly(await this.local.loadCredentials(this.nodeKeyPem));
    return this.nodeKeyPem;
  }

  /** A new swarm (init) or a new membership (join): no keys yet, or a fresh unlock key with init --autolock. */
  reset(unlockKey: Buffer | undefined, nodeKeyPem: string): void {
    this.clear();
    this.unlockKey = unlockKey;
    this.nodeKeyPem = nodeKeyPem;
  }

  /** The node's credentials on disk: the key wrapped in the key file with autolock, else as before. */
  async saveCredentials(credentials: NodeCredentials): Promise<void> {
    if (credentials.keyPem !== this.nodeKeyPem) this.carried = [];
    this.nodeKeyPem = credentials.keyPem;
    if (this.unlockKey) {
      if (!this.dataKey) this.dataKey = newDataKey();
      await this.persist();
      await this.local.saveCertificatesOnly(credentials);
    } else {
      await this.local.saveCredentials(credentials);
    }
  }

  /** The cipher for this manager's Raft storage; the data key is made (and saved) on first use. */
  async managerCipher(): Promise<AesGcmCipher> {
    if (!this.dataKey) {
      this.dataKey = newDataKey();
      await this.persist();
    }
    this.cipherInstance ??= new AesGcmCipher(this.dataKey, this.previousDataKey ? [this.previousDataKey] : []);
    return this.cipherInstance;
  }

  /** After the storage opened (and resealed anything under the previous data key): forget that key. */
  async settle(): Promise<void> {
    if (!this.previousDataKey || !this.dataKey) return;
    this.previousDataKey = undefined;
    this.cipherInstance?.setKeys(this.dataKey);
    await this.persist();
  }

  /**
   * Makes this manager's key files follow the swarm's unlock key (`desired`, from the store).
   * `reseal` rewrites the Raft data under the current data key (the running Raft node's storage).
   */
  async follow(desired: Buffer | undefined, credentials: NodeCredentials, reseal: () => Promise<void>): Promise<'unchanged' | 'locked' | 'rotated' | 'unlocked'> {
    const have = this.unlockKey;
    if (have === undefined ? desired === undefined : desired !== undefined && have.equals(desired)) return 'unchanged';
    this.nodeKeyPem = credentials.keyPem;
    this.carried = [];
    if (desired && !have) {
      // The data key so far sat in a clear file: a new one, saved (wrapped) before anything is sealed with it.
      const old = this.dataKey ?? newDataKey();
      const fresh = newDataKey();
      this.unlockKey = Buffer.from(desired);
      this.dataKey = fresh;
      this.previousDataKey = old;
      await this.persist();
      await this.local.saveCertificatesOnly(credentials);
      this.cipherInstance?.setKeys(fresh, [old]);
      await reseal();
      await this.settle();
      return 'locked';
    }
    if (!desired) {
      this.unlockKey = undefined;
      this.previousUnlockKey = undefined;
      clearTimeout(this.graceTimer);
      // The clear TLS key first: a crash between the two writes leaves a node that still unlocks.
      await this.local.saveCredentials(credentials);
      await this.persist();
      return 'unlocked';
    }
    this.previousUnlockKey = { key: have!, until: Date.now() + this.graceMs };
    this.unlockKey = Buffer.from(desired);
    await this.persist();
    this.scheduleGraceEnd(this.previousUnlockKey.until);
    return 'rotated';
  }

  /** This node is no manager any more (demoted): the TLS key in clear again, no data key. */
  async forget(credentials: NodeCredentials): Promise<void> {
    await this.local.saveCredentials(credentials);
    await this.local.removeAtRestKeys();
    this.clear();
  }

  /** Forgets everything in memory (the files are someone else's business: leave wipes them). */
  clear(): void {
    clearTimeout(this.graceTimer);
    this.dataKey = undefined;
    this.previousDataKey = undefined;
    this.unlockKey = undefined;
    this.previousUnlockKey = undefined;
    this.carried = [];
    this.nodeKeyPem = undefined;
    this.cipherInstance = undefined;
  }

  private scheduleGraceEnd(until: number): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => {
      this.previousUnlockKey = undefined;
      this.carried = [];
      void this.persist().catch(() => undefined);
    }, Math.max(0, until - Date.now()));
    this.graceTimer.unref();
  }

  private async persist(): Promise<void> {
    const dataKey = this.dataKey;
    if (!dataKey) return;
    if (!this.unlockKey) {
      const file: AtRestKeyFile = { version: 1, autolock: false, dataKey: b64(dataKey), ...(this.previousDataKey ? { previousDataKey: b64(this.previousDataKey) } : {}) };
      return this.local.saveAtRestKeys(file);
    }
    const nodeKeyPem = this.nodeKeyPem;
    if (nodeKeyPem === undefined) throw new Error('the node key is not loaded');
    const wrapWith = (kek: Buffer, validUntil?: number): KeyWrap => ({
      unlockKeyId: unlockKeyId(kek),
      ...(validUntil !== undefined ? { validUntil: new Date(validUntil).toISOString() } : {}),
      dataKey: wrapSecret(kek, dataKey, 'raft-data-key'),
      ...(this.previousDataKey ? { previousDataKey: wrapSecret(kek, this.previousDataKey, 'raft-data-key') } : {}),
      nodeKey: wrapSecret(kek, Buffer.from(nodeKeyPem, 'utf8'), 'node-private-key'),
    });
    const wraps = [wrapWith(this.unlockKey)];
    const previous = this.previousUnlockKey;
    if (previous && previous.until > Date.now()) wraps.push(wrapWith(previous.key, previous.until));
    wraps.push(...this.carried.filter((w) => Date.parse(w.validUntil ?? '') > Date.now()));
    await this.local.saveAtRestKeys({ version: 1, autolock: true, wraps });
  }
}

// Host keys, trusted on first use: OpenSSH's fingerprint form and a known_hosts file of Skep's own
// (OpenSSH's line format, mode 0600, in the node's data directory). A changed key is never accepted
// silently: only an explicit replacement with the new fingerprint re-pins it.
import { createHash } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { SkepError, skepError } from '../../shared/errors.js';
import { formatMachineAddress, type HostKeyReport } from '../../shared/provision.js';

export interface HostKey {
  readonly keyType: string;
  readonly fingerprint: string;
  /** The key blob as the server sent it (SSH wire format). */
  readonly blob: Buffer;
}

/** OpenSSH's `ssh-keygen -l` form: SHA256: and the unpadded base64 of the blob's SHA-256. */
export function fingerprintOf(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The blob starts with its type as an SSH string (uint32 length, then ASCII). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  if (length > 64 || blob.length < 4 + length) return 'unknown';
  return blob.subarray(4, 4 + length).toString('ascii');
}

export function hostKeyOf(blob: Buffer): HostKey {
  return { keyType: keyTypeOf(blob), fingerprint: fingerprintOf(blob), blob };
}

/** How OpenSSH names a host in known_hosts: `host`, or `[host]:port` off port 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

interface Entry {
  readonly name: string;
  readonly keyType: string;
  readonly blob: Buffer;
}

function parseLine(line: string): Entry | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 3 || fields[0]?.startsWith('#')) return undefined;
  return { name: fields[0] ?? '', keyType: fields[1] ?? '', blob: Buffer.from(fields[2] ?? '', 'base64') };
}

export class KnownHosts {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'known_hosts');
  }

  private async entries(): Promise<Entry[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return text.split('\n').map(parseLine).filter((e): e is Entry => e !== undefined);
  }

  /** What the person must be told about `key` presented by host:port. */
  async report(host: string, port: number, key: HostKey): Promise<HostKeyReport> {
    const name = knownHostsName(host, port);
    const address = formatMachineAddress(host, port);
    const pinned = (await this.entries()).filter((e) => e.name === name);
    const base = { address, keyType: key.keyType, fingerprint: key.fingerprint };
    if (pinned.length === 0) return { ...base, status: 'new' };
    if (pinned.some((e) => e.blob.equals(key.blob))) return { ...base, status: 'trusted' };
    return { ...base, status: 'changed', pinnedFingerprint: fingerprintOf(pinned[0]?.blob ?? Buffer.alloc(0)) };
  }

  /**
   * Decides whether to go on with a server presenting `key`: a pinned key passes, a new one passes
   * only when the person accepted exactly its fingerprint, a changed one only when they replaced it.
   */
  async verify(host: string, port: number, key: HostKey, consent: { accept?: string; replace?: string }): Promise<HostKeyReport> {
    const report = await this.report(host, port, key);
    if (report.status === 'trusted') return report;
    if (report.status === 'new') {
      if (consent.accept !== key.fingerprint && consent.replace !== key.fingerprint) {
        throw withDetails(skepError('SSH_HOST_KEY_UNKNOWN', report.address, key.keyType, key.fingerprint), { hostKey: report });
      }
    } else if (consent.replace !== key.fingerprint) {
      throw withDetails(skepError('SSH_HOST_KEY_CHANGED', report.address, report.pinnedFingerprint ?? '', key.fingerprint), { hostKey: report });
    }
    await this.pin(host, port, key);
    return { ...report, status: 'trusted' };
  }

  async pin(host: string, port: number, key: HostKey): Promise<void> {
    const name = knownHostsName(host, port);
    const kept = (await this.entries()).filter((e) => e.name !== name);
    const lines = [...kept, { name, keyType: key.keyType, blob: key.blob }].map((e) => `${e.name} ${e.keyType} ${e.blob.toString('base64')}`);
    await writeFileDurably(this.file, lines.join('\n') + '\n', 0o600);
  }
}

/** Temporary file, fsync, rename: a crash leaves the old file or the new one, never half of one. */
export async function writeFileDurably(file: string, text: string, mode: number): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}`;
  const handle = await open(temporary, 'w', mode);
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/** The catalog's error with data the wizard needs (the key to show), never secrets. */
export function withDetails(error: SkepError, details: Record<string, unknown>): SkepError {
  return new SkepError(error.code, error.message, details);
}

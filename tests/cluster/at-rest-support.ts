// Reading a manager's data directory from outside, as an attacker with the disk would — and, with
// the manager's own data key, as the manager does — for the encryption-at-rest tests.
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AesGcmCipher } from '../../electron/raft/storage/cipher.js';
import { DiskStorage } from '../../electron/raft/storage/disk-storage.js';
import type { AtRestKeyFile } from '../../electron/node/local-state.js';
import { SwarmStore, type ClusterRecord, type Command } from '../../electron/swarm/state/store.js';

export function keyFilePath(dataDir: string): string {
  return path.join(dataDir, 'swarm', 'certificates', 'raft-keys.json');
}

export async function readKeyFile(dataDir: string): Promise<AtRestKeyFile | null> {
  try {
    return JSON.parse(await readFile(keyFilePath(dataDir), 'utf8')) as AtRestKeyFile;
  } catch {
    return null;
  }
}

/** Every regular file under `dir`, with its bytes. */
export async function filesUnder(dir: string): Promise<{ file: string; bytes: Buffer }[]> {
  const out: { file: string; bytes: Buffer }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    try {
      out.push({ file, bytes: await readFile(file) });
    } catch {
      // Renamed away by the daemon's atomic write between listing and reading.
    }
  }
  return out;
}

/** The files under `dir` whose raw bytes contain any of `needles`, as "file: needle name". */
export async function filesContaining(dir: string, needles: Readonly<Record<string, string>>): Promise<string[]> {
  const hits: string[] = [];
  for (const { file, bytes } of await filesUnder(dir)) {
    for (const [name, needle] of Object.entries(needles)) if (bytes.includes(needle)) hits.push(`${path.relative(dir, file)}: ${name}`);
  }
  return hits;
}

/** Opens a copy of a Raft directory (the live one is locked by its daemon), with or without a data key. */
export async function openRaftCopy(raftDir: string, dataKey?: Buffer): Promise<{ snapshot: Uint8Array | null; commands: Command[] }> {
  const copy = await mkdtemp(path.join(os.tmpdir(), 'skep-atrest-copy-'));
  try {
    await cp(raftDir, copy, { recursive: true, filter: (source) => path.basename(source) !== 'LOCK' });
    const { storage, state } = await DiskStorage.open(copy, dataKey ? { cipher: new AesGcmCipher(dataKey) } : {});
    await storage.close();
    const commands: Command[] = [];
    for (const entry of state.entries) {
      if (entry.type !== 'normal' || entry.data.length === 0) continue;
      // RaftNode's 17-byte proposal envelope comes first; the command is the JSON after it.
      const text = Buffer.from(entry.data).toString('utf8');
      const start = text.indexOf('{"op"');
      if (start >= 0) commands.push(JSON.parse(text.slice(start)) as Command);
    }
    return { snapshot: state.snapshot?.data ?? null, commands };
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

/**
 * The cluster record (CA key, token secrets) as a manager holding `dataKey` reads it from its own
 * disk — the snapshot restored and the log after it applied by the real store — plus every token
 * secret the log still holds (a rotated one too).
 */
export async function clusterRecordFromDisk(raftDir: string, dataKey?: Buffer): Promise<ClusterRecord & { readonly everySecret: readonly string[] }> {
  const { snapshot, commands } = await openRaftCopy(raftDir, dataKey);
  const store = new SwarmStore();
  if (snapshot) store.restore(snapshot);
  const secrets = new Set<string>();
  const remember = (): void => {
    const tokens = store.state.cluster?.tokenSecrets;
    if (tokens) for (const secret of [tokens.worker, tokens.manager]) secrets.add(secret);
  };
  remember();
  for (const command of commands) {
    store.apply(command);
    remember();
  }
  const cluster = store.state.cluster;
  if (!cluster) throw new Error(`no cluster record in ${raftDir}`);
  return { ...cluster, everySecret: [...secrets] };
}

/** What must never be found in clear on a manager's disk: each line of the CA key's PEM body, and every token secret. */
export function secretNeedles(cluster: ClusterRecord & { readonly everySecret?: readonly string[] }): Record<string, string> {
  const needles: Record<string, string> = { 'worker token secret': cluster.tokenSecrets.worker, 'manager token secret': cluster.tokenSecrets.manager };
  (cluster.everySecret ?? []).forEach((secret, i) => (needles[`token secret ${i + 1}`] = secret));
  cluster.ca.keyPem
    .split('\n')
    .filter((line) => line.length >= 32 && !line.startsWith('-----'))
    .forEach((line, i) => (needles[`CA key line ${i + 1}`] = line));
  return needles;
}

/**
 * An "old" data directory, as Skep wrote it before encryption at rest: the same Raft state in
 * clear, and no key file. Made from a stopped manager's directory through the storage's own clear
 * code path (DiskStorage without a cipher), not a checked-in binary.
 */
export async function rewriteInClear(dataDir: string, dataKey: Buffer): Promise<void> {
  const raftDir = path.join(dataDir, 'swarm', 'raft');
  const { storage, state } = await DiskStorage.open(raftDir, { cipher: new AesGcmCipher(dataKey) });
  await storage.close();
  const clearDir = `${raftDir}.clear`;
  const { storage: clear } = await DiskStorage.open(clearDir);
  await clear.save(state.hardState, state.entries, state.snapshot);
  await clear.close();
  await rm(raftDir, { recursive: true, force: true });
  await cp(clearDir, raftDir, { recursive: true, filter: (source) => path.basename(source) !== 'LOCK' });
  await rm(clearDir, { recursive: true, force: true });
  await rm(keyFilePath(dataDir), { force: true });
}

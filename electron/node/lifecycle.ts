// Small pieces of the node's lifecycle that are not the daemon's state: the words for a cluster
// port that can't be opened, the Raft directory rewrite of --force-new-cluster, a join deadline.
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { skepError, SkepError } from '../../shared/errors.js';
import type { PayloadCipher } from '../raft/storage/cipher.js';
import { DiskStorage } from '../raft/storage/disk-storage.js';

/** Why the cluster port could not be opened, in words a person can act on. */
export function listenError(address: string, error: unknown): SkepError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const reason =
    code === 'EADDRINUSE'
      ? 'the address is already in use (another Skep node, or a Docker swarm manager on the same port?)'
      : code === 'EADDRNOTAVAIL'
        ? 'this machine has no such address'
        : code === 'EACCES'
          ? 'permission denied (ports below 1024 need root)'
          : error instanceof Error
            ? error.message
            : String(error);
  return skepError('LISTEN_FAILED', address, reason);
}

/**
 * Replaces a Raft directory with one holding `state` as a snapshot whose only voter is `self`,
 * sealed with `cipher` as the old one was (the old log is kept beside it, still sealed).
 */
export async function rewriteAsSingleVoter(raftDir: string, self: string, state: { index: number; term: number; data: Uint8Array }, cipher?: PayloadCipher): Promise<void> {
  const fresh = `${raftDir}.new`;
  const previous = `${raftDir}.before-force-new-cluster-${Date.now()}`;
  await rm(fresh, { recursive: true, force: true });
  const { storage } = await DiskStorage.open(fresh, cipher ? { cipher } : {});
  try {
    const snapshot = { metadata: { index: state.index, term: state.term, confState: { voters: [self], learners: [] } }, data: state.data };
    await storage.save({ term: state.term, vote: null, commit: state.index }, [], snapshot);
  } finally {
    await storage.close();
  }
  // The old log is kept beside the new one until the new swarm runs, in case a person needs it.
  await rename(raftDir, previous);
  await rename(fresh, raftDir);
  // The renames themselves must survive a crash, or the old log could come back as the current one.
  const parent = await open(path.dirname(raftDir), 'r');
  try {
    await parent.sync();
  } finally {
    await parent.close();
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new SkepError('INTERNAL', `Timeout was reached before node joined: ${what}.`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// A unix socket's path is only as private as the directories above it: whoever can write the
// socket's directory can put their own socket there first (or swap ours) and hear what the CLI
// sends — a join token, for one. So both ends check the path before they trust it:
//  - the daemon creates the socket's directory itself (0700) when it is missing, and refuses a
//    directory that belongs to another user or that other users may write;
//  - the CLI refuses a socket that belongs to someone other than itself or root, or that sits
//    where another user could have swapped it, before it sends a single byte.
// Every ancestor must belong to us or root; one that others may write is allowed only with the
// sticky bit (/tmp), where others can't rename or remove what is ours.
import type { Stats } from 'node:fs';
import { lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { SkepError, skepError } from '../../shared/errors.js';

const WRITABLE_BY_OTHERS = 0o022;
/** The sticky bit: in such a directory only an entry's owner may rename or remove it. */
const STICKY = 0o1000;

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function isTrustedOwner(stats: Stats, uid: number): boolean {
  return stats.uid === uid || stats.uid === 0;
}

function unsafe(socketPath: string, reason: string): Error {
  return skepError('CONTROL_SOCKET_UNSAFE', socketPath, reason);
}

async function lstatOrNull(file: string): Promise<Stats | null> {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Each of dir's ancestors (not dir itself), from the root down. */
function ancestorsOf(dir: string): string[] {
  const out: string[] = [];
  for (let current = path.dirname(dir); ; current = path.dirname(current)) {
    out.unshift(current);
    if (path.dirname(current) === current) return out;
  }
}

/** Throws unless no other user can replace `dir` or anything on the way to it. */
async function checkAncestors(socketPath: string, dir: string, uid: number): Promise<void> {
  for (const ancestor of ancestorsOf(dir)) {
    const stats = await lstatOrNull(ancestor);
    if (stats === null) return;
    await checkComponent(socketPath, ancestor, stats, uid, { mayBeShared: true });
  }
}

async function checkComponent(socketPath: string, component: string, stats: Stats, uid: number, rules: { mayBeShared: boolean }): Promise<void> {
  if (!isTrustedOwner(stats, uid)) throw unsafe(socketPath, `${component} belongs to user ${stats.uid}, not to you (user ${uid})`);
  if (stats.isSymbolicLink()) {
    // A link we or root made: the place it leads to must pass the same checks.
    const target = await realpath(component);
    await checkAncestors(socketPath, target, uid);
    const targetStats = await lstat(target);
    return checkComponent(socketPath, target, targetStats, uid, rules);
  }
  if (!stats.isDirectory()) throw unsafe(socketPath, `${component} is not a directory`);
  const sharedButSticky = rules.mayBeShared && (stats.mode & STICKY) !== 0;
  if ((stats.mode & WRITABLE_BY_OTHERS) !== 0 && !sharedButSticky) {
    throw unsafe(socketPath, `other users may write to ${component} (mode ${octal(stats.mode)})`);
  }
}

/**
 * Daemon side: makes the socket's directory private to this user (0700) if it is missing, and
 * refuses one that another user owns or may write. A no-op on Windows (named pipes).
 */
export async function preparePrivateSocketDir(socketPath: string): Promise<void> {
  const uid = currentUid();
  if (uid === undefined) return;
  const dir = path.dirname(path.resolve(socketPath));
  // Created one level at a time, each checked: another user may race us to any missing name.
  for (const component of [...ancestorsOf(dir), dir]) {
    let stats = await lstatOrNull(component);
    if (stats === null) {
      try {
        await mkdir(component, { mode: 0o700 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      stats = await lstat(component);
    }
    await checkComponent(socketPath, component, stats, uid, { mayBeShared: component !== dir });
  }
  const dirStats = await lstat(dir);
  if (dirStats.uid !== uid) throw unsafe(socketPath, `${dir} belongs to user ${dirStats.uid}, not to you (user ${uid})`);
  const existing = await lstatOrNull(socketPath);
  if (existing !== null && existing.uid !== uid) {
    throw unsafe(socketPath, `${socketPath} belongs to user ${existing.uid}, not to you (user ${uid})`);
  }
}

/**
 * CLI side, before connecting: the socket must belong to this user or root, and nobody else may
 * have been able to put it there. False when there is no socket: then don't connect at all, or
 * another user could create one in a shared directory between this check and the connect.
 */
export async function checkControlSocket(socketPath: string): Promise<boolean> {
  const uid = currentUid();
  if (uid === undefined) return true;
  try {
    return await checkSocketAs(socketPath, uid);
  } catch (error) {
    if (error instanceof SkepError) throw error;
    // What we cannot inspect (a directory we may not enter) we cannot trust either.
    throw unsafe(socketPath, `it cannot be checked (${(error as Error).message})`);
  }
}

async function checkSocketAs(socketPath: string, uid: number): Promise<boolean> {
  const resolved = path.resolve(socketPath);
  const dir = path.dirname(resolved);
  await checkAncestors(socketPath, dir, uid);
  const dirStats = await lstatOrNull(dir);
  if (dirStats === null) return false;
  await checkComponent(socketPath, dir, dirStats, uid, { mayBeShared: true });
  const stats = await lstatOrNull(resolved);
  if (stats === null) return false;
  if (!isTrustedOwner(stats, uid)) {
    throw unsafe(socketPath, `it belongs to user ${stats.uid}, not to you (user ${uid}) or root: another user may be posing as the daemon`);
  }
  if (!stats.isSocket()) throw unsafe(socketPath, 'it is not a socket');
  return true;
}

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { RaftLogger } from '../../../electron/raft/storage/logger.js';
import type { Entry } from '../../../electron/raft/types.js';

/** Real temporary directories under os.tmpdir(), removed after each test. */
export function useTempDirs(): () => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), 'skep-raft-storage-'));
    dirs.push(d);
    return d;
  };
}

export function entry(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(text) };
}

export function range(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

export function describeEntries(es: readonly Entry[]): string[] {
  return es.map((e) => `${e.index}/${e.term}/${e.type}/${new TextDecoder().decode(e.data)}`);
}

export interface LogLine {
  level: string;
  message: string;
  fields?: Readonly<Record<string, unknown>>;
}

export function recordingLogger(): { logger: RaftLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { logger: (level, message, fields) => lines.push({ level, message, fields }), lines };
}

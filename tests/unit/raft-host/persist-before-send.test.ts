// The host's central contract: what a message vouches for is already on disk when the message is sent.
// The transport here reads the sender's WAL files from disk at the moment of every send.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Message } from '../../../electron/raft/core/index.js';
import { checkFrame, decodePayload } from '../../../electron/raft/storage/codec.js';
import type { HardState } from '../../../electron/raft/types.js';
import { kv, LocalCluster } from './cluster.js';

// Real processes, timers and fsync on a shared 2-core machine: generous, and never a timing assertion.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** Read-only replay of a WAL directory: the durable last index and hard state. */
function durableState(walDir: string): { lastIndex: number; hardState: HardState | null } {
  let lastIndex = 0;
  let hardState: HardState | null = null;
  for (const name of readdirSync(walDir).filter((n) => n.endsWith('.wal')).sort()) {
    const buf = readFileSync(path.join(walDir, name));
    let off = 0;
    while (off < buf.length) {
      const f = checkFrame(buf, off);
      if (!f.ok) break;
      const rec = decodePayload(buf, f.payloadStart, f.payloadEnd);
      if (rec.kind === 'batch') {
        if (rec.marker) lastIndex = Math.max(lastIndex, rec.marker.index);
        const last = rec.entries[rec.entries.length - 1];
        if (last) lastIndex = last.index;
        if (rec.hardState) hardState = rec.hardState;
      }
      off = f.payloadEnd;
    }
  }
  return { lastIndex, hardState };
}

let cluster: LocalCluster | null = null;
afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

describe('persist before send', () => {
  it('appends, append acks and votes leave a node only after the state they vouch for is fsynced', async () => {
    cluster = await LocalCluster.start();
    const violations: string[] = [];
    let checked = 0;
    cluster.dropIf = (m: Message): boolean => {
      const dir = path.join(cluster!.dataDirs.get(m.from)!, 'wal');
      const d = durableState(dir);
      const lastSent = m.entries[m.entries.length - 1]?.index;
      if (m.type === 'app' && lastSent !== undefined) {
        checked++;
        if (lastSent > d.lastIndex) violations.push(`${m.from} sent entries up to ${lastSent}, durable ${d.lastIndex}`);
      } else if (m.type === 'appResp' && !m.reject) {
        checked++;
        if (m.index > d.lastIndex) violations.push(`${m.from} acked ${m.index}, durable ${d.lastIndex}`);
      } else if (m.type === 'voteResp' && !m.reject) {
        checked++;
        if (d.hardState?.term !== m.term || d.hardState.vote !== m.to) {
          violations.push(`${m.from} granted a vote to ${m.to} in term ${m.term}, durable ${JSON.stringify(d.hardState)}`);
        }
      }
      return false;
    };
    const leader = await cluster.waitForLeader();
    await Promise.all(Array.from({ length: 60 }, (_, i) => leader.propose(kv(`p${i}`, 'v'))));
    // Force a second election, so votes are checked after real history exists.
    const target = cluster.followers(leader)[0]!;
    await leader.transferLeadership(target.id);
    const next = await cluster.waitForLeader();
    await Promise.all(Array.from({ length: 20 }, (_, i) => next.propose(kv(`q${i}`, 'v'))));
    expect(violations).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });
});

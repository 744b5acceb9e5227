import { describe, expect, it } from 'vitest';
import { type RaftConfig, RaftCore, seededRandom } from '../../../electron/raft/core/index.js';
import { TestNet, data, ids } from './harness.js';

// §7 Log compaction and InstallSnapshot.
describe('§7 log compaction', () => {
  function withEntries(n: number, extra: Partial<RaftConfig> = {}): TestNet {
    const net = new TestNet(ids(3), extra);
    net.campaign('n1');
    for (let i = 0; i < n; i++) net.core('n1').propose(data(`e${i}`));
    net.settle();
    return net;
  }

  it('the host snapshots at its applied index and the core compacts its log', () => {
    const net = withEntries(10);
    const leader = net.core('n1');
    const applied = leader.status().applied;
    const snap = leader.createSnapshot(applied, data('state'));
    expect(snap.metadata).toMatchObject({ index: applied, term: leader.status().term, confState: { voters: ids(3), learners: [] } });
    leader.compact(applied - 2);
    expect(leader.status().firstIndex).toBe(applied - 1);
    expect(() => leader.compact(applied + 1)).toThrow();
  });

  it('a follower behind the compaction point receives the snapshot, restores it, and catches up', () => {
    const net = withEntries(3);
    net.isolate('n3');
    for (let i = 0; i < 10; i++) net.core('n1').propose(data(`more${i}`));
    net.settle();
    const leader = net.core('n1');
    const applied = leader.status().applied;
    leader.createSnapshot(applied, data('the state'));
    leader.compact(applied);
    net.heal();
    const f = net.core('n3');
    let sent = 0;
    net.filter = (m) => {
      if (m.type === 'snap') sent++;
      return true;
    };
    const received: string[] = [];
    const ready = f.ready.bind(f);
    f.ready = () => {
      const rd = ready();
      if (rd.snapshot) received.push(new TextDecoder().decode(rd.snapshot.data));
      return rd;
    };
    net.tick(3);
    expect(sent).toBeGreaterThan(0);
    expect(received).toEqual(['the state']);
    expect(f.status().lastIndex).toBe(leader.status().lastIndex);
    expect(f.status().applied).toBe(leader.status().applied);
  });

  it('a large snapshot travels in chunks no bigger than maxBytesPerMessage and arrives whole', () => {
    const net = withEntries(3, { maxBytesPerMessage: 100 });
    net.isolate('n3');
    for (let i = 0; i < 5; i++) net.core('n1').propose(data(`more${i}`));
    net.settle();
    const leader = net.core('n1');
    const image = Uint8Array.from({ length: 1234 }, (_, i) => i % 251);
    leader.createSnapshot(leader.status().applied, image);
    leader.compact(leader.status().applied);
    net.heal();
    const chunks: number[] = [];
    net.filter = (m) => {
      if (m.type === 'snap') chunks.push(m.snapshot!.data.length);
      return true;
    };
    const received: Uint8Array[] = [];
    const orig = net.core('n3');
    const ready = orig.ready.bind(orig);
    orig.ready = () => {
      const rd = ready();
      if (rd.snapshot) received.push(rd.snapshot.data);
      return rd;
    };
    net.tick(3);
    expect(chunks.length).toBe(13);
    expect(Math.max(...chunks)).toBeLessThanOrEqual(100);
    expect(received).toHaveLength(1);
    expect(received[0]).toEqual(image);
    expect(orig.status().commit).toBe(leader.status().commit);
  });

  it('a node restarts from its snapshot plus the entries after it', () => {
    const net = withEntries(5);
    const leader = net.core('n1');
    const st = leader.status();
    const snapshot = leader.createSnapshot(st.applied - 2, data('s'));
    const entries = [];
    for (let i = st.applied - 1; i <= st.lastIndex; i++) entries.push(leader.entryAt(i)!);
    const restarted = new RaftCore({
      id: 'n1',
      random: seededRandom(1),
      restore: { hardState: { term: st.term, vote: 'n1', commit: st.commit }, snapshot, entries },
      applied: st.applied - 2,
    });
    const rs = restarted.status();
    expect(rs).toMatchObject({ term: st.term, commit: st.commit, lastIndex: st.lastIndex, firstIndex: st.applied - 1, role: 'follower' });
    expect(rs.confState.voters).toEqual(ids(3));
    // The two entries after the snapshot are handed back for the host to re-apply.
    const rd = restarted.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([st.applied - 1, st.applied]);
  });
});

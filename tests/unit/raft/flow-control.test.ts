import { describe, expect, it } from 'vitest';
import type { Message } from '../../../electron/raft/core/index.js';
import { TestNet, coreWithLog, data, ids, logTerms, msg } from './harness.js';

// Replication flow control (etcd's Progress): fast backtracking, batching, inflight window, probing.
describe('fast log backtracking', () => {
  // Leader: terms 2..2 then 5..5; follower: terms 2..2 then a long tail of 3s (never committed).
  // Without hints the leader would back up one entry per round trip.
  it.each([
    ['a long divergent tail', [2, 2, 2, ...Array<number>(40).fill(5)], [2, 2, 2, ...Array<number>(60).fill(3)]],
    ['a follower far behind', [2, 2, 2, ...Array<number>(50).fill(4)], [2, 2]],
    ['divergence across several terms', [2, 3, 3, 6, 6, 6, 7], [2, 3, 3, 4, 4, 5, 5, 5, 5, 5]],
  ])('repairs %s in at most two rejections', (_name, leaderTerms, followerTerms) => {
    const leader = coreWithLog('n1', ids(2), leaderTerms, 7, { preVote: false });
    const follower = coreWithLog('n2', ids(2), followerTerms, 7, { preVote: false });
    const net = new TestNet([]);
    net.add('n1', leader);
    net.add('n2', follower);
    net.campaign('n1');
    expect(leader.status().role).toBe('leader');
    const rejections = net.delivered.filter((m) => m.type === 'appResp' && m.reject).length;
    expect(rejections).toBeLessThanOrEqual(2);
    expect(logTerms(follower)).toEqual(logTerms(leader));
  });
});

describe('batching and the inflight window', () => {
  it('splits a backlog into bounded messages and stops at the inflight limit', () => {
    const net = new TestNet(ids(2), { maxBytesPerMessage: 1000, maxInflightMessages: 3 });
    net.campaign('n1');
    const leader = net.core('n1');
    net.cut.add('n2>n1'); // acks lost: the window fills
    for (let i = 0; i < 30; i++) leader.propose(new Uint8Array(300));
    const apps: Message[] = [];
    net.filter = (m) => {
      if (m.type === 'app' && m.entries.length > 0) apps.push(m);
      return true;
    };
    net.settle();
    expect(apps.length).toBe(3);
    expect(leader.status().progress?.n2?.inflight).toBe(3);
    for (const a of apps) {
      const bytes = a.entries.reduce((s, e) => s + e.data.length + 24, 0);
      expect(a.entries.length === 1 || bytes <= 1000).toBe(true);
    }
    // Acks reopen the window and the rest flows.
    net.heal();
    net.tick(3);
    expect(net.core('n2').status().lastIndex).toBe(leader.status().lastIndex);
  });

  it('a probing leader has one append in flight until the follower answers', () => {
    const net = new TestNet(ids(2), { preVote: false });
    net.cut.add('n2>n1'); // the follower's answers are lost
    net.core('n1').campaign();
    net.core('n1').step(msg({ type: 'voteResp', from: 'n2', to: 'n1', term: 2 }));
    expect(net.core('n1').status().progress?.n2?.state).toBe('probe');
    const apps: Message[] = [];
    net.filter = (m) => {
      if (m.type === 'app') apps.push(m);
      return true;
    };
    for (let i = 0; i < 5; i++) net.core('n1').propose(data(`p${i}`));
    net.settle();
    expect(apps).toHaveLength(1);
    // Once it answers, the leader switches to pipelining.
    net.heal();
    net.tick(2);
    expect(net.core('n1').status().progress?.n2?.state).toBe('replicate');
    expect(net.core('n2').status().lastIndex).toBe(net.core('n1').status().lastIndex);
  });
});

import { describe, expect, it } from 'vitest';
import type { Message } from '../../../electron/raft/core/index.js';
import { TestNet, drain, ids, msg, newCore } from './harness.js';

// Dissertation §9.6 (PreVote) and §6.2 (CheckQuorum and the leader lease).
describe('PreVote', () => {
  it('a partitioned node that rejoins does not depose a healthy leader', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    const term = net.core('n1').status().term;
    net.isolate('n3');
    for (let i = 0; i < 100; i++) net.tick(1);
    // PreVote kept its term from climbing while it was alone.
    expect(net.core('n3').status().term).toBe(term);
    net.heal();
    net.tick(5);
    expect(net.leader()).toBe('n1');
    expect(net.core('n1').status().term).toBe(term);
  });

  it('a node that sleeps for a long time (no ticks, messages queued) wakes without disrupting the group', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    const term = net.core('n1').status().term;
    const backlog: Message[] = [];
    net.filter = (m) => {
      if (m.to !== 'n3') return true;
      backlog.push(m);
      return false;
    };
    for (let i = 0; i < 50; i++) {
      net.tick(1, ['n1', 'n2']);
      net.core('n1').propose(new TextEncoder().encode(`while asleep ${i}`));
    }
    net.filter = null;
    // It wakes: first the stale backlog, then its own overdue timer.
    for (const m of backlog) net.deliver(m);
    for (let i = 0; i < 30; i++) net.tick(1);
    expect(net.leader()).toBe('n1');
    expect(net.core('n1').status().term).toBe(term);
    expect(net.core('n3').status().commit).toBe(net.core('n1').status().commit);
  });

  it('a pre-candidate does not change its term or vote', () => {
    const core = newCore('n1', ids(3));
    drain(core);
    core.campaign();
    expect(core.status()).toMatchObject({ role: 'pre-candidate', term: 1, vote: null });
    const pre = drain(core).messages;
    expect(pre.map((m) => [m.type, m.term])).toEqual([
      ['preVote', 2],
      ['preVote', 2],
    ]);
  });

  it('winning the pre-election starts the real election', () => {
    const core = newCore('n1', ids(3));
    core.campaign();
    core.step(msg({ type: 'preVoteResp', from: 'n2', to: 'n1', term: 2 }));
    expect(core.status()).toMatchObject({ role: 'candidate', term: 2, vote: 'n1' });
  });
});

describe('CheckQuorum', () => {
  it('a leader that hears from no quorum for an election timeout steps down', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    net.isolate('n1');
    for (let i = 0; i < 25; i++) net.core('n1').tick();
    expect(net.core('n1').status().role).toBe('follower');
  });

  it('a follower in a leader lease ignores a vote request even at a higher term', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    const f = net.core('n2');
    const term = f.status().term;
    f.step(msg({ type: 'vote', from: 'n3', to: 'n2', term: term + 1, index: 100, logTerm: 100 }));
    expect(drain(f).messages).toEqual([]);
    expect(f.status()).toMatchObject({ term, leader: 'n1' });
  });

  it('without PreVote, a rejoining node with an inflated term forces an election but cannot win with a stale log', () => {
    const net = new TestNet(ids(3), { preVote: false });
    net.campaign('n1');
    net.isolate('n3');
    net.core('n1').propose(new TextEncoder().encode('n3 misses this'));
    net.settle();
    for (let i = 0; i < 60; i++) net.core('n3').tick();
    expect(net.core('n3').status().term).toBeGreaterThan(net.core('n1').status().term);
    net.heal();
    net.tick(80);
    // n3's log is behind, so it cannot win; the group settles on one leader holding every entry.
    const leader = net.leader();
    expect(leader === 'n1' || leader === 'n2').toBe(true);
  });
});

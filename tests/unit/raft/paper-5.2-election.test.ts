import { describe, expect, it } from 'vitest';
import { RaftCore, seededRandom } from '../../../electron/raft/core/index.js';
import { TestNet, drain, ids, msg, newCore } from './harness.js';

// §5.2 Leader election.
describe('§5.2 leader election', () => {
  it('a follower that hears nothing for an election timeout starts an election', () => {
    const core = newCore('n1', ids(3), { preVote: false });
    drain(core);
    for (let i = 0; i < 20; i++) core.tick();
    const st = core.status();
    expect(st.role).toBe('candidate');
    expect(st.term).toBe(2);
    expect(st.vote).toBe('n1');
    const votes = drain(core).messages.filter((m) => m.type === 'vote');
    expect(votes.map((m) => m.to).sort()).toEqual(['n2', 'n3']);
  });

  // Table as etcd's TestLeaderElectionInOneRoundRPC: cluster size, granted votes (besides self), outcome.
  it.each([
    [1, 0, 'leader'],
    [3, 1, 'leader'],
    [3, 2, 'leader'],
    [5, 2, 'leader'],
    [5, 1, 'candidate'],
    [3, 0, 'candidate'],
  ] as const)('with %i voters and %i granted votes the candidate ends as %s', (size, granted, role) => {
    const voters = ids(size);
    const core = newCore('n1', voters, { preVote: false });
    core.campaign();
    for (const id of voters.slice(1, 1 + granted)) core.step(msg({ type: 'voteResp', from: id, to: 'n1', term: 2 }));
    expect(core.status().role).toBe(role);
  });

  it('a candidate that gathers a majority of rejections returns to follower', () => {
    const core = newCore('n1', ids(3), { preVote: false });
    core.campaign();
    core.step(msg({ type: 'voteResp', from: 'n2', to: 'n1', term: 2, reject: true }));
    core.step(msg({ type: 'voteResp', from: 'n3', to: 'n1', term: 2, reject: true }));
    expect(core.status().role).toBe('follower');
  });

  it('a node grants at most one vote per term', () => {
    const core = newCore('n1', ids(3), { preVote: false });
    drain(core);
    core.step(msg({ type: 'vote', from: 'n2', to: 'n1', term: 2, index: 1, logTerm: 1 }));
    core.step(msg({ type: 'vote', from: 'n3', to: 'n1', term: 2, index: 1, logTerm: 1 }));
    core.step(msg({ type: 'vote', from: 'n2', to: 'n1', term: 2, index: 1, logTerm: 1 }));
    const resp = drain(core).messages.map((m) => [m.to, m.reject]);
    expect(resp).toEqual([
      ['n2', false],
      ['n3', true],
      ['n2', false],
    ]);
    expect(core.status().vote).toBe('n2');
  });

  it('a candidate that receives an append from a leader of its term becomes its follower', () => {
    const core = newCore('n1', ids(3), { preVote: false });
    core.campaign();
    core.step(msg({ type: 'app', from: 'n2', to: 'n1', term: 2, index: 1, logTerm: 1 }));
    expect(core.status()).toMatchObject({ role: 'follower', leader: 'n2', term: 2 });
  });

  it('election timeouts are randomized in [electionTick, 2*electionTick)', () => {
    const timeouts = new Set<number>();
    for (let seed = 1; seed <= 200; seed++) {
      const core = new RaftCore({ id: 'n1', bootstrap: { voters: ids(3), learners: [] }, random: seededRandom(seed), preVote: false });
      let ticks = 0;
      while (core.status().role === 'follower') {
        core.tick();
        ticks++;
      }
      timeouts.add(ticks);
    }
    expect(Math.min(...timeouts)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...timeouts)).toBeLessThan(20);
    expect(timeouts.size).toBeGreaterThan(5);
  });

  it('a split vote ends with a new election in a later term', () => {
    const net = new TestNet(ids(4), { preVote: false });
    net.filter = (m) => m.type !== 'voteResp' || m.term > 2; // the first election of term 2 is lost
    net.campaign('n1');
    expect(net.core('n1').status().role).toBe('candidate');
    net.filter = null;
    net.tick(40);
    expect(net.leader()).not.toBeNull();
    expect(net.core(net.leader()!).status().term).toBeGreaterThan(2);
  });

  it('a three-node cluster elects exactly one leader from timeouts alone', () => {
    const net = new TestNet(ids(3));
    net.tick(30);
    const leaders = [...net.cores.values()].filter((c) => c.status().role === 'leader');
    expect(leaders).toHaveLength(1);
  });
});

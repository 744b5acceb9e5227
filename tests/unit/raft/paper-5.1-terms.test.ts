import { describe, expect, it } from 'vitest';
import { coreWithLog, drain, ids, msg, newCore } from './harness.js';

// §5.1 Raft basics: terms act as a logical clock; stale terms are rejected, newer ones adopted.
describe('§5.1 terms', () => {
  const voters = ids(3);

  it.each(['follower', 'candidate', 'leader'] as const)('a %s that sees a higher term becomes a follower of it', (role) => {
    const core = newCore('n1', voters, { preVote: false });
    if (role !== 'follower') core.campaign();
    if (role === 'leader') core.step(msg({ type: 'voteResp', from: 'n2', to: 'n1', term: 2 }));
    expect(core.status().role).toBe(role);
    const term = core.status().term;
    core.step(msg({ type: 'app', from: 'n3', to: 'n1', term: term + 5, index: 0, logTerm: 0 }));
    const st = core.status();
    expect(st.role).toBe('follower');
    expect(st.term).toBe(term + 5);
    expect(st.leader).toBe('n3');
  });

  it('a message from a stale term is rejected and answered with the current term', () => {
    const core = coreWithLog('n1', voters, [2], 3);
    drain(core);
    const stale = [{ term: 2, index: 3, type: 'normal' as const, data: new Uint8Array() }];
    core.step(msg({ type: 'app', from: 'n2', to: 'n1', term: 2, index: 2, logTerm: 2, entries: stale }));
    const { messages } = drain(core);
    expect(core.status().lastIndex).toBe(2);
    expect(core.status().term).toBe(3);
    expect(messages).toEqual([expect.objectContaining({ type: 'appResp', to: 'n2', term: 3 })]);
  });

  it('a stale leader steps down when a response carries a newer term', () => {
    const core = newCore('n1', voters, { preVote: false });
    core.campaign();
    core.step(msg({ type: 'voteResp', from: 'n2', to: 'n1', term: 2 }));
    expect(core.status().role).toBe('leader');
    core.step(msg({ type: 'appResp', from: 'n3', to: 'n1', term: 7, index: 0 }));
    expect(core.status()).toMatchObject({ role: 'follower', term: 7, leader: null });
  });

  it('term and vote reach hardState in the same Ready as the vote request that depends on them', () => {
    const core = newCore('n1', voters, { preVote: false });
    drain(core);
    core.campaign();
    const rd = core.ready();
    expect(rd.hardState).toMatchObject({ term: 2, vote: 'n1' });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages.filter((m) => m.type === 'vote')).toHaveLength(2);
    core.advance();
  });
});

import { describe, expect, it } from 'vitest';
import type { Message } from '../../../electron/raft/core/index.js';
import { coreWithLog, drain, ids, logTerms, msg } from './harness.js';

// §5.4 Safety.
describe('§5.4.1 election restriction', () => {
  // Voter holds terms [1, 2, 2] (last index 3, last term 2). Candidate's (last index, last term) → granted?
  it.each([
    [3, 2, true],
    [4, 2, true],
    [2, 2, false],
    [1, 3, true],
    [9, 1, false],
  ])('a candidate with last entry %i/term %i gets the vote: %s', (index, logTerm, granted) => {
    const voter = coreWithLog('n1', ids(3), [2, 2], 2);
    drain(voter);
    voter.step(msg({ type: 'vote', from: 'n2', to: 'n1', term: 3, index, logTerm }));
    const [resp] = drain(voter).messages;
    expect(resp).toMatchObject({ type: 'voteResp', reject: !granted });
  });

  it('a leader holds every committed entry: the node missing one cannot win', () => {
    const behind = coreWithLog('n3', ids(3), [2], 2, { preVote: false });
    const ahead = coreWithLog('n1', ids(3), [2, 2], 2, { preVote: false });
    drain(behind);
    drain(ahead);
    behind.campaign();
    const req = drain(behind).messages.find((m) => m.to === 'n1')!;
    ahead.step(req);
    const [resp] = drain(ahead).messages;
    expect(resp).toMatchObject({ reject: true });
  });
});

describe('§5.4.2 committing entries from previous terms (Figure 8)', () => {
  // n1 won term 4 holding an entry of term 2 at index 3 that n2 lacks. One entry per append, so
  // n2 first acknowledges index 3 (term 2) alone: a majority holds it, yet it must not commit
  // until the term-4 entry at index 4 is also on a majority.
  function setup(unsafe = false): { leaderCommitAfterOldAck: number; leaderCommitAfterNewAck: number } {
    const leader = coreWithLog('n1', ids(3), [2, 2], 3, {
      preVote: false,
      maxBytesPerMessage: 1,
      ...(unsafe ? { unsafe: { commitPreviousTermByCounting: true } } : {}),
    });
    const n2 = coreWithLog('n2', ids(3), [2], 3, { preVote: false, maxBytesPerMessage: 1 });
    drain(leader);
    drain(n2);
    leader.campaign();
    const vote = drain(leader).messages.find((m) => m.to === 'n2')!;
    n2.step(vote);
    for (const m of drain(n2).messages) leader.step(m);
    expect(leader.status()).toMatchObject({ role: 'leader', term: 4, lastIndex: 4 });
    const pump = (): Message[] => drain(leader).messages.filter((m) => m.to === 'n2');
    // Probe at index 4 is rejected, the leader backs up and sends index 3 alone.
    for (const m of pump()) n2.step(m);
    for (const m of drain(n2).messages) leader.step(m);
    const toN2 = pump();
    expect(toN2.map((m) => [m.index, m.entries.map((e) => e.index)])).toEqual([[2, [3]]]);
    for (const m of toN2) n2.step(m);
    const ack = drain(n2).messages;
    expect(ack).toEqual([expect.objectContaining({ type: 'appResp', index: 3, reject: false })]);
    for (const m of ack) leader.step(m);
    const leaderCommitAfterOldAck = leader.status().commit;
    for (const m of pump()) n2.step(m);
    for (const m of drain(n2).messages) leader.step(m);
    return { leaderCommitAfterOldAck, leaderCommitAfterNewAck: leader.status().commit };
  }

  it('an old-term entry on a majority is not committed by counting replicas', () => {
    const r = setup();
    expect(r.leaderCommitAfterOldAck).toBe(1);
    expect(r.leaderCommitAfterNewAck).toBe(4);
  });

  it('the unsafe knob does commit it (what the simulation must catch)', () => {
    expect(setup(true).leaderCommitAfterOldAck).toBe(3);
  });

  it('a leader never overwrites or deletes its own entries', () => {
    const leader = coreWithLog('n1', ids(3), [2, 2], 2, { preVote: false });
    drain(leader);
    leader.campaign();
    leader.step(msg({ type: 'voteResp', from: 'n2', to: 'n1', term: 3 }));
    const before = logTerms(leader);
    leader.step(msg({ type: 'appResp', from: 'n2', to: 'n1', term: 3, index: 4, reject: true, rejectHint: 1, logTerm: 1 }));
    expect(logTerms(leader)).toEqual(before);
  });
});

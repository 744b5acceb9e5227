import { describe, expect, it } from 'vitest';
import {
  RaftCore,
  applyConfChangeTo,
  decodeConfChangeEntry,
  encodeConfChange,
  seededRandom,
} from '../../../electron/raft/core/index.js';
import type { Entry } from '../../../electron/raft/types.js';
import { TestNet, data, ids, msg } from './harness.js';

// §6 Cluster membership changes: single-server changes, a new server catching up as a learner first.
function joiner(id: string): RaftCore {
  return new RaftCore({ id, random: seededRandom(99) });
}

function cluster(n: number): TestNet {
  const net = new TestNet(ids(n));
  net.campaign('n1');
  return net;
}

function addLearner(net: TestNet, id: string): void {
  net.add(id, joiner(id));
  net.core('n1').proposeConfChange({ type: 'addLearner', nodeId: id });
  net.settle();
  net.tick(2);
}

describe('§6 membership', () => {
  it('a conf change round-trips through its entry encoding', () => {
    const cc = { type: 'promote' as const, nodeId: 'abc', context: Uint8Array.of(1, 2, 3) };
    expect(decodeConfChangeEntry(encodeConfChange(cc))).toEqual({ kind: 'change', change: cc });
    expect(applyConfChangeTo({ voters: ['a'], learners: ['abc'] }, cc)).toEqual({ voters: ['a', 'abc'], learners: [] });
  });

  it('a new node joins as a learner: it receives the log but never votes, campaigns or counts', () => {
    const net = cluster(3);
    net.core('n1').propose(data('before'));
    net.settle();
    addLearner(net, 'n4');
    const learner = net.core('n4');
    expect(learner.status().role).toBe('learner');
    expect(learner.status().confState).toEqual({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    expect(learner.status().commit).toBe(net.core('n1').status().commit);
    // It never campaigns, however long it hears nothing.
    net.isolate('n4');
    for (let i = 0; i < 100; i++) learner.tick();
    expect(learner.status()).toMatchObject({ role: 'learner', term: net.core('n1').status().term });
  });

  it('a learner does not count toward quorum', () => {
    const net = cluster(1);
    addLearner(net, 'n2');
    net.isolate('n2');
    // One voter: it commits alone; the learner's absence changes nothing.
    net.core('n1').propose(data('x'));
    net.settle();
    expect(net.core('n1').status().commit).toBe(net.core('n1').status().lastIndex);
  });

  it('a promoted learner becomes a voter that counts and can campaign', () => {
    const net = cluster(3);
    addLearner(net, 'n4');
    net.core('n1').proposeConfChange({ type: 'promote', nodeId: 'n4' });
    net.settle();
    net.tick(2);
    expect(net.core('n4').status()).toMatchObject({ role: 'follower' });
    expect(net.core('n1').status().confState.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    // Four voters: quorum is three, so n1+n4 alone cannot commit.
    net.isolate('n2');
    net.isolate('n3');
    const commit = net.core('n1').status().commit;
    net.core('n1').propose(data('needs three'));
    net.settle();
    expect(net.core('n1').status().commit).toBe(commit);
  });

  it('only one conf change may be in flight', () => {
    const net = cluster(3);
    net.isolate('n2');
    net.isolate('n3');
    net.core('n1').proposeConfChange({ type: 'addLearner', nodeId: 'n4' });
    expect(() => net.core('n1').proposeConfChange({ type: 'addLearner', nodeId: 'n5' })).toThrow(
      expect.objectContaining({ reason: 'conf-change-pending' }),
    );
  });

  it('two conf changes in one proposal message are refused as a whole', () => {
    const net = cluster(3);
    const cc = (nodeId: string): Entry => ({ term: 0, index: 0, type: 'confChange', data: encodeConfChange({ type: 'addLearner', nodeId }) });
    expect(() => net.core('n1').step(msg({ type: 'prop', from: 'n1', entries: [cc('n4'), cc('n5')] }))).toThrow(
      expect.objectContaining({ reason: 'conf-change-pending' }),
    );
  });

    it('an invalid change is refused at proposal time', () => {
    const net = cluster(3);
    expect(() => net.core('n1').proposeConfChange({ type: 'promote', nodeId: 'n2' })).toThrow(
      expect.objectContaining({ reason: 'invalid-conf-change' }),
    );
  });

  it('removing a follower shrinks the quorum and stops replication to it', () => {
    const net = cluster(3);
    net.core('n1').proposeConfChange({ type: 'removeNode', nodeId: 'n3' });
    net.settle();
    net.tick(2);
    expect(net.core('n1').status().confState.voters).toEqual(['n1', 'n2']);
    const before = net.delivered.length;
    net.core('n1').propose(data('after'));
    net.settle();
    expect(net.delivered.slice(before).some((m) => m.to === 'n3')).toBe(false);
    // n3 is no member: it never campaigns, so it cannot disturb the group.
    for (let i = 0; i < 100; i++) net.core('n3').tick();
    expect(net.core('n3').status().role).toBe('follower');
  });

  it('a leader that removes itself hands leadership to a caught-up voter and steps down', () => {
    const net = cluster(3);
    net.core('n1').proposeConfChange({ type: 'removeNode', nodeId: 'n1' });
    net.settle();
    expect(net.core('n1').status().role).toBe('follower');
    const leader = net.leader();
    expect(leader === 'n2' || leader === 'n3').toBe(true);
    expect(net.core(leader!).status().confState.voters).toEqual(['n2', 'n3']);
    net.core(leader!).propose(data('life goes on'));
    net.settle();
    expect(net.core(leader!).status().commit).toBe(net.core(leader!).status().lastIndex);
  });
});

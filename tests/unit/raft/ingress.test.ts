import { describe, expect, it } from 'vitest';
import { MessageKind, decodeMessage, encodeMessage } from '../../../electron/net/codec.js';
import {
  DEFAULT_INGRESS_BOUNDS,
  type Message,
  RaftCore,
  encodeConfChange,
  seededRandom,
  wellFormedProblem,
} from '../../../electron/raft/core/index.js';
import type { Entry } from '../../../electron/raft/types.js';
import { TestNet, coreWithLog, data, drain, ids, msg, newCore } from './harness.js';

// The core's one door: every message from another node is checked for shape, for its sender's
// membership and for whether a correct member could have sent it; what fails is dropped and
// counted, never thrown, and changes nothing.

/** A 3-voter group with n1 leading and a few entries committed everywhere. */
function group(extra: ConstructorParameters<typeof TestNet>[1] = {}): TestNet {
  const net = new TestNet(ids(3), extra);
  net.campaign('n1');
  for (let i = 0; i < 3; i++) net.core('n1').propose(data(`e${i}`));
  net.settle();
  return net;
}

function snapshotOf(core: RaftCore): string {
  const st = core.status();
  return JSON.stringify([st.term, st.vote, st.leader, st.role, st.commit, st.applied, st.lastIndex, st.confState, st.progress, core.hasReady()]);
}

/** Steps `m` into `core`, expects it dropped for `reason` with no other effect. */
function expectDropped(core: RaftCore, m: unknown, reason: string): void {
  const before = snapshotOf(core);
  const count = core.status().droppedMessages[reason as keyof ReturnType<RaftCore['status']>['droppedMessages']] ?? 0;
  expect(() => core.step(m as Message)).not.toThrow();
  expect(core.status().droppedMessages).toMatchObject({ [reason]: count + 1 });
  expect(snapshotOf(core)).toBe(before);
}

describe('ingress: a message that cannot be right is dropped and counted, never thrown', () => {
  it('a heartbeat that commits past the follower\'s log end (the message that used to stop a node)', () => {
    const net = group();
    const follower = net.core('n2');
    const { term, lastIndex } = follower.status();
    expectDropped(follower, msg({ type: 'heartbeat', from: 'n1', to: 'n2', term, commit: lastIndex + 1000 }), 'commit-past-log');
    // The same from a leader of a newer term: still impossible, the term does not move either.
    expectDropped(follower, msg({ type: 'heartbeat', from: 'n3', to: 'n2', term: term + 1, commit: lastIndex + 1 }), 'commit-past-log');
    // The node goes on as before.
    net.core('n1').propose(data('after'));
    net.settle();
    expect(follower.status().commit).toBe(net.core('n1').status().commit);
  });

  it('an append whose commit runs past its own entries commits only what it verified (etcd: min(commit, lastNew))', () => {
    const net = group();
    const follower = net.core('n2');
    const { term, lastIndex, commit } = follower.status();
    const entries: Entry[] = [{ index: lastIndex + 1, term, type: 'normal', data: data('x') }];
    follower.step(msg({ type: 'app', from: 'n1', to: 'n2', term, index: lastIndex, logTerm: term, entries, commit: lastIndex + 50 }));
    expect(follower.status().commit).toBe(lastIndex + 1);
    expect(follower.status().commit).toBeGreaterThan(commit);
  });

  it.each([
    ['not an object', null, 'malformed'],
    ['a string', 'heartbeat', 'malformed'],
    ['an unknown type', { type: 'heartbeatz' }, 'malformed'],
    ['a negative term', { term: -1 }, 'malformed'],
    ['a fractional index', { index: 1.5 }, 'malformed'],
    ['an unsafe integer commit', { commit: 2 ** 60 }, 'malformed'],
    ['a numeric string commit', { commit: '3' }, 'malformed'],
    ['NaN', { logTerm: Number.NaN }, 'malformed'],
    ['a missing reject flag', { reject: undefined }, 'malformed'],
    ['an empty sender', { from: '' }, 'malformed'],
    ['a context that is not bytes', { context: [1, 2] }, 'malformed'],
    ['entries on a heartbeat', { entries: [{ index: 9, term: 1, type: 'normal', data: new Uint8Array() }] }, 'malformed'],
    ['a timer type', { type: 'hup' }, 'local-type'],
    ['our own ID as sender', { from: 'n2' }, 'from-self'],
    ['another recipient', { to: 'n3' }, 'wrong-recipient'],
  ])('a heartbeat with %s', (_what, change, reason) => {
    const net = group();
    const follower = net.core('n2');
    const hb = { ...msg({ type: 'heartbeat', from: 'n1', to: 'n2', term: follower.status().term, commit: 1 }) };
    const m = typeof change === 'object' && change !== null ? { ...hb, ...change } : change;
    expectDropped(follower, m, reason);
  });

  it('appends whose entries skip an index, go back in term, or outrun the sender\'s term', () => {
    const net = group();
    const f = net.core('n2');
    const { term, lastIndex } = f.status();
    const e = (index: number, t: number): Entry => ({ index, term: t, type: 'normal', data: data('x') });
    const app = (entries: Entry[], extra: Partial<Message> = {}): Message =>
      msg({ type: 'app', from: 'n1', to: 'n2', term, index: lastIndex, logTerm: term, entries, ...extra });
    expectDropped(f, app([e(lastIndex + 1, term), e(lastIndex + 3, term)]), 'malformed');
    expectDropped(f, app([e(lastIndex + 2, term)]), 'malformed');
    expectDropped(f, app([e(lastIndex + 1, term + 1)]), 'malformed');
    expectDropped(f, app([e(lastIndex + 1, term)], { logTerm: term + 1 }), 'malformed');
    const badConf: Entry = { index: lastIndex + 1, term, type: 'confChange', data: Uint8Array.of(1, 9) };
    expectDropped(f, app([badConf]), 'malformed');
  });

  it('more entries or bytes than the bounds allow', () => {
    const net = group({ ingressBounds: { maxEntries: 4, maxBytes: 100 } });
    const f = net.core('n2');
    const { term, lastIndex } = f.status();
    const entries = (n: number, bytes: number): Entry[] =>
      Array.from({ length: n }, (_, i) => ({ index: lastIndex + 1 + i, term, type: 'normal' as const, data: new Uint8Array(bytes) }));
    const app = (es: Entry[]): Message => msg({ type: 'app', from: 'n1', to: 'n2', term, index: lastIndex, logTerm: term, entries: es });
    expectDropped(f, app(entries(5, 1)), 'oversized');
    expectDropped(f, app(entries(2, 60)), 'oversized');
    f.step(app(entries(4, 20)));
    expect(f.status().lastIndex).toBe(lastIndex + 4);
  });

  it('snapshot metadata that cannot be', () => {
    const net = group();
    const f = net.core('n2');
    const { term } = f.status();
    const chunk = (meta: object, extra: object = {}): Message =>
      msg({
        type: 'snap',
        from: 'n1',
        to: 'n2',
        term,
        snapshot: { metadata: { index: 50, term, confState: { voters: ['n1'], learners: [] }, ...meta }, offset: 0, totalBytes: 4, data: new Uint8Array(4), ...extra },
      });
    expectDropped(f, chunk({ confState: { voters: [], learners: [] } }), 'bad-snapshot');
    expectDropped(f, chunk({ confState: { voters: ['n1'], learners: ['n1'] } }), 'bad-snapshot');
    expectDropped(f, chunk({ term: term + 1 }), 'bad-snapshot');
    expectDropped(f, chunk({ index: 0 }), 'bad-snapshot');
    expectDropped(f, chunk({}, { offset: 2 }), 'bad-snapshot');
    expectDropped(f, chunk({}, { data: 'abcd' }), 'malformed');
  });

  it('a second leader in the term, and answers to questions never asked', () => {
    const net = group();
    const leader = net.core('n1');
    const f = net.core('n2');
    const { term, lastIndex } = f.status();
    // n3 is a member but n1 leads this term: n3 cannot append, beat or hand over leadership in it.
    expectDropped(f, msg({ type: 'heartbeat', from: 'n3', to: 'n2', term, commit: 1 }), 'second-leader');
    expectDropped(f, msg({ type: 'app', from: 'n3', to: 'n2', term, index: lastIndex, logTerm: term }), 'second-leader');
    expectDropped(leader, msg({ type: 'heartbeat', from: 'n3', to: 'n1', term, commit: 1 }), 'second-leader');
    expectDropped(f, msg({ type: 'timeoutNow', from: 'n3', to: 'n2', term }), 'unsolicited-response');
    expectDropped(f, msg({ type: 'timeoutNow', from: 'n1', to: 'n2', term: term + 1 }), 'unsolicited-response');
    expectDropped(f, msg({ type: 'readIndexResp', from: 'n3', to: 'n2', term, index: 1, context: data('c') }), 'unsolicited-response');
    // A vote granted for a term we never campaigned in would have moved our term.
    expectDropped(f, msg({ type: 'voteResp', from: 'n3', to: 'n2', term: term + 7 }), 'unsolicited-response');
    expectDropped(f, msg({ type: 'preVoteResp', from: 'n3', to: 'n2', term: term + 3 }), 'unsolicited-response');
    // Acknowledging entries the leader never had would have committed them.
    expectDropped(leader, msg({ type: 'appResp', from: 'n2', to: 'n1', term, index: lastIndex + 10 }), 'ack-past-log');
    expectDropped(leader, msg({ type: 'appResp', from: 'n2', to: 'n1', term, index: 2, reject: true, rejectHint: 5 }), 'malformed');
  });
});

describe('ingress: only members speak', () => {
  it('a high-term heartbeat from a non-member moves nobody\'s term', () => {
    const net = group();
    for (const id of ids(3)) {
      const core = net.core(id);
      const { term } = core.status();
      expectDropped(core, msg({ type: 'heartbeat', from: 'w1', to: id, term: term + 1000, commit: 0 }), 'non-member');
      expectDropped(core, msg({ type: 'vote', from: 'w1', to: id, term: term + 1000, index: 999, logTerm: term + 999 }), 'non-member');
      expectDropped(core, msg({ type: 'app', from: 'w1', to: id, term: term + 1, index: 0, logTerm: 0 }), 'non-member');
      expect(core.status().term).toBe(term);
    }
    expect(net.leader()).toBe('n1');
  });

  it('a non-member\'s forwarded proposals never reach the log, not even one that would make it a member', () => {
    const net = group();
    const leader = net.core('n1');
    const prop = (e: Entry): Message => msg({ type: 'prop', from: 'w1', to: 'n1', entries: [e] });
    expectDropped(leader, prop({ index: 0, term: 0, type: 'normal', data: data('label') }), 'non-member');
    const promote = encodeConfChange({ type: 'addLearner', nodeId: 'w1' });
    expectDropped(leader, prop({ index: 0, term: 0, type: 'confChange', data: promote }), 'non-member');
    // A member's forwarded proposal is taken.
    const last = leader.status().lastIndex;
    leader.step(msg({ type: 'prop', from: 'n2', to: 'n1', entries: [{ index: 0, term: 0, type: 'normal', data: data('ok') }] }));
    expect(leader.status().lastIndex).toBe(last + 1);
  });

  it('a removed node\'s messages are dropped, so it cannot disturb the group it left', () => {
    const net = group();
    net.core('n1').proposeConfChange({ type: 'removeNode', nodeId: 'n3' });
    net.settle();
    net.tick(2);
    const term = net.core('n1').status().term;
    for (const id of ['n1', 'n2']) {
      const core = net.core(id);
      expectDropped(core, msg({ type: 'preVote', from: 'n3', to: id, term: term + 1, index: 100, logTerm: term }), 'removed-member');
      expectDropped(core, msg({ type: 'heartbeat', from: 'n3', to: id, term: term + 5, commit: 0 }), 'removed-member');
    }
  });

  it('a learner\'s vote requests are ignored', () => {
    const net = group();
    net.add('n4', new RaftCore({ id: 'n4', random: seededRandom(4) }));
    net.core('n1').proposeConfChange({ type: 'addLearner', nodeId: 'n4' });
    net.settle();
    net.tick(2);
    const f = net.core('n2');
    const { term, lastIndex } = f.status();
    expectDropped(f, msg({ type: 'vote', from: 'n4', to: 'n2', term: term + 1, index: lastIndex + 5, logTerm: term, transfer: true }), 'vote-from-non-voter');
  });

  it('a joining node, member of nothing yet, takes the leader\'s appends and snapshot', () => {
    const net = group();
    const joiner = new RaftCore({ id: 'n4', random: seededRandom(4) });
    expect(joiner.status().confState).toEqual({ voters: [], learners: [] });
    net.add('n4', joiner);
    net.core('n1').proposeConfChange({ type: 'addLearner', nodeId: 'n4' });
    net.settle();
    net.tick(2);
    expect(joiner.status()).toMatchObject({ role: 'learner', commit: net.core('n1').status().commit, leader: 'n1' });
    // Once a member itself, it takes nothing from strangers.
    expectDropped(joiner, msg({ type: 'heartbeat', from: 'w1', to: 'n4', term: joiner.status().term + 3, commit: 0 }), 'non-member');
  });

  it('a host that authenticates peers decides about strangers (a leader added after this node\'s log ends)', () => {
    // n2 lags: its configuration is n1..n3, but n5 was added, promoted and elected while it was away.
    const lagging = coreWithLog('n2', ids(3), [2, 2], 2);
    drain(lagging);
    const fromNewLeader = msg({ type: 'heartbeat', from: 'n5', to: 'n2', term: 9, commit: 0 });
    expectDropped(lagging, fromNewLeader, 'non-member');
    const vouched = coreWithLog('n2', ids(3), [2, 2], 2, { admitNonMember: (id) => id === 'n5' });
    drain(vouched);
    vouched.step(fromNewLeader);
    expect(vouched.status()).toMatchObject({ term: 9, leader: 'n5' });
    expectDropped(vouched, msg({ type: 'heartbeat', from: 'w1', to: 'n2', term: 20, commit: 0 }), 'non-member');
    // A joining node whose host vouches for nobody it is asked about hears no one.
    const refusing = new RaftCore({ id: 'n4', random: seededRandom(4), admitNonMember: () => false });
    expectDropped(refusing, msg({ type: 'app', from: 'n1', to: 'n4', term: 3, index: 0, logTerm: 0 }), 'non-member');
  });

  it('a follower forwards a transfer request as itself, naming the transferee apart', () => {
    const net = group();
    const sent: Message[] = [];
    net.filter = (m) => {
      sent.push(m);
      return true;
    };
    net.core('n2').transferLeadership('n3');
    net.settle();
    expect(sent).toContainEqual(expect.objectContaining({ type: 'transferLeader', from: 'n2', to: 'n1', transferee: 'n3' }));
    expect(net.leader()).toBe('n3');
    // A transfer request relayed from someone else is not relayed again.
    const core = net.core('n2');
    core.step(msg({ type: 'transferLeader', from: 'n1', to: 'n2', transferee: 'n1' }));
    expect(drain(core).messages.filter((m) => m.type === 'transferLeader')).toEqual([]);
  });
});

describe('what correct members send passes the door', () => {
  it('every message of a working group, after a trip through the real wire codec, is well-formed', () => {
    const net = new TestNet(ids(3));
    const sent: Message[] = [];
    net.filter = (m) => {
      sent.push(m);
      return true;
    };
    net.campaign('n1');
    net.core('n1').propose(data('x'));
    net.core('n2').propose(data('y'));
    net.core('n2').readIndex(data('ctx'));
    net.core('n2').transferLeadership('n3');
    net.settle();
    net.tick(3);
    // A snapshot chunk as a leader sends one to a follower whose next entry was compacted.
    const n3 = net.core('n3');
    const snap = n3.createSnapshot(n3.status().applied, data('state'));
    sent.push(msg({ type: 'snap', from: 'n3', to: 'n1', term: n3.status().term, snapshot: { metadata: snap.metadata, offset: 0, totalBytes: 5, data: snap.data } }));
    expect(new Set(sent.map((m) => m.type))).toEqual(
      new Set(['preVote', 'preVoteResp', 'vote', 'voteResp', 'app', 'appResp', 'prop', 'readIndex', 'transferLeader', 'heartbeat', 'heartbeatResp', 'readIndexResp', 'timeoutNow', 'snap']),
    );
    for (const m of sent) {
      const frame = encodeMessage({ kind: MessageKind.Notify, method: 'raft.message', body: m }, 1 << 24);
      const decoded = decodeMessage(frame.subarray(4));
      const body = decoded.kind === MessageKind.Notify ? decoded.body : undefined;
      expect(wellFormedProblem(body, DEFAULT_INGRESS_BOUNDS), m.type).toBeNull();
    }
  });
});

describe('ingress bounds and shapes are checked even on a fresh node', () => {
  it('a fresh voter counts but never throws on any of these', () => {
    const core = newCore('n1', ids(3));
    for (const m of [undefined, 0, [], {}, new Uint8Array(3), { type: 'app', from: 'n2', to: 'n1' }]) {
      expect(() => core.step(m as unknown as Message)).not.toThrow();
    }
    expect(core.status().droppedMessages.malformed).toBe(6);
  });
});

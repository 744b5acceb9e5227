import { describe, expect, it } from 'vitest';
import { TestNet, coreWithLog, data, drain, ids, logTerms, msg, text } from './harness.js';

// §5.3 Log replication.
describe('§5.3 log replication', () => {
  it('the leader appends a proposal, replicates it, and commits it once a majority holds it', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    net.core('n1').propose(data('hello'));
    net.settle();
    for (const id of ids(3)) {
      const st = net.core(id).status();
      expect(st.commit).toBe(st.lastIndex);
      expect(net.applied.get(id)!.filter((e) => e.data.length > 0).map(text)).toEqual(['hello']);
    }
  });

  it('an entry replicated to a minority is not committed', () => {
    const net = new TestNet(ids(5));
    net.campaign('n1');
    const commitBefore = net.core('n1').status().commit;
    net.isolate('n4');
    net.isolate('n5');
    net.cut.add('n1>n3');
    net.core('n1').propose(data('x'));
    net.settle();
    expect(net.core('n1').status().commit).toBe(commitBefore);
    net.heal();
    net.tick(1);
    expect(net.core('n1').status().commit).toBe(net.core('n1').status().lastIndex);
  });

  it('the consistency check rejects an append whose previous entry does not match', () => {
    const f = coreWithLog('n2', ids(3), [2, 2], 3);
    drain(f);
    const ents = [{ term: 3, index: 5, type: 'normal' as const, data: data('x') }];
    f.step(msg({ type: 'app', from: 'n1', to: 'n2', term: 3, index: 4, logTerm: 3, entries: ents }));
    const [resp] = drain(f).messages;
    expect(resp).toMatchObject({ type: 'appResp', reject: true, index: 4 });
    expect(f.status().lastIndex).toBe(3);
  });

  it('conflicting entries on a follower are overwritten by the leader’s', () => {
    // etcd TestLeaderSyncFollowerLog in miniature: the follower holds an uncommitted tail of an old term.
    const leader = coreWithLog('n1', ids(3), [2, 3, 3], 3, { preVote: false });
    const follower = coreWithLog('n2', ids(3), [2, 2, 2, 2, 2], 3, { preVote: false });
    const net = new TestNet([]);
    net.add('n1', leader);
    net.add('n2', follower);
    net.campaign('n1');
    expect(leader.status().role).toBe('leader');
    expect(logTerms(follower)).toEqual(logTerms(leader));
    expect(logTerms(follower)).toEqual([2, 3, 3, 4]);
  });

  it('a follower appends nothing it already has and keeps entries after a matching prefix', () => {
    const f = coreWithLog('n2', ids(3), [2, 2, 2], 2);
    drain(f);
    const dup = [{ term: 2, index: 3, type: 'normal' as const, data: data('e3@2') }];
    f.step(msg({ type: 'app', from: 'n1', to: 'n2', term: 2, index: 2, logTerm: 2, entries: dup }));
    const { messages, readies } = drain(f);
    expect(messages[0]).toMatchObject({ type: 'appResp', reject: false, index: 3 });
    expect(readies.flatMap((r) => r.entries)).toEqual([]);
    expect(f.status().lastIndex).toBe(4);
  });

  it('followers learn the commit index from appends and heartbeats', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    net.core('n1').propose(data('a'));
    net.settle();
    net.tick(1);
    const c = net.core('n1').status().commit;
    expect(net.core('n2').status().commit).toBe(c);
    expect(net.core('n3').status().commit).toBe(c);
  });

  it('a follower forwards proposals to the leader', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    net.core('n3').propose(data('via n3'));
    net.settle();
    expect(net.applied.get('n1')!.map(text)).toContain('via n3');
  });

  it('a proposal with no leader is dropped with an error, never queued', () => {
    const net = new TestNet(ids(3));
    expect(() => net.core('n1').propose(data('x'))).toThrow(expect.objectContaining({ name: 'ProposalDroppedError', reason: 'no-leader' }));
  });
});

import { describe, expect, it } from 'vitest';
import type { ReadState } from '../../../electron/raft/core/index.js';
import { TestNet, data, drain, ids } from './harness.js';

// Dissertation §6.4: ReadIndex — a read point confirmed by a heartbeat round.
function collectReads(net: TestNet, id: string): ReadState[] {
  const reads: ReadState[] = [];
  const core = net.core(id);
  const ready = core.ready.bind(core);
  core.ready = () => {
    const rd = ready();
    reads.push(...rd.readStates);
    return rd;
  };
  return reads;
}

describe('ReadIndex', () => {
  it('the leader answers with its commit index after a quorum acknowledges a heartbeat', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    net.core('n1').propose(data('v'));
    net.settle();
    const reads = collectReads(net, 'n1');
    net.core('n1').readIndex(data('ctx-1'));
    net.settle();
    expect(reads).toEqual([{ index: net.core('n1').status().commit, context: data('ctx-1') }]);
  });

  it('a follower forwards the request and receives the read point', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    const reads = collectReads(net, 'n2');
    net.core('n2').readIndex(data('from-n2'));
    net.settle();
    expect(reads).toEqual([{ index: net.core('n1').status().commit, context: data('from-n2') }]);
  });

  it('a leader cut off from the quorum never answers', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    const reads = collectReads(net, 'n1');
    net.isolate('n1');
    net.core('n1').readIndex(data('lost'));
    net.settle();
    expect(reads).toEqual([]);
  });

  it('a new leader refuses reads until an entry of its term commits', () => {
    const net = new TestNet(ids(3));
    net.isolate('n1');
    net.core('n1').campaign();
    net.heal();
    const core = net.core('n1');
    drain(core);
    net.isolate('n1');
    for (let i = 0; i < 3; i++) core.tick();
    if (core.status().role === 'leader') {
      expect(() => core.readIndex(data('early'))).toThrow(expect.objectContaining({ reason: 'not-leader-yet-committed' }));
    }
    expect(() => net.core('n2').readIndex(data('no leader'))).toThrow(expect.objectContaining({ reason: 'no-leader' }));
  });

  it('a single voter answers at once', () => {
    const net = new TestNet(ids(1));
    net.campaign('n1');
    const reads = collectReads(net, 'n1');
    net.core('n1').readIndex(data('solo'));
    net.settle();
    expect(reads).toHaveLength(1);
  });
});

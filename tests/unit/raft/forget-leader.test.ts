import { describe, expect, it } from 'vitest';
import { TestNet, ids } from './harness.js';

// Fast failover: the host tells followers their leader's connection reset (forgetLeader), and one
// of them campaigns at once instead of waiting out the election timeout.
describe('forgetLeader (fast failover)', () => {
  function electedNet(): TestNet {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    net.settle();
    expect(net.leader()).toBe('n1');
    return net;
  }

  it('without it, a follower still in the leader lease refuses pre-votes: the campaign fails', () => {
    const net = electedNet();
    net.isolate('n1');
    net.campaign('n2');
    net.settle();
    expect(net.core('n2').status().role).not.toBe('leader');
    expect(net.core('n3').status().leader).toBe('n1');
  });

  it('after every follower forgot the crashed leader, the campaign wins at once, without ticks', () => {
    const net = electedNet();
    net.isolate('n1');
    net.core('n2').forgetLeader();
    net.core('n3').forgetLeader();
    net.campaign('n2');
    net.settle();
    expect(net.core('n2').status().role).toBe('leader');
    expect(net.core('n3').status().leader).toBe('n2');
    expect(net.core('n2').status().term).toBe(3);
  });

  it('a follower that forgot a leader which is in fact alive re-learns it from the next heartbeat', () => {
    const net = electedNet();
    net.core('n2').forgetLeader();
    expect(net.core('n2').status().leader).toBeNull();
    net.tick(1, ['n1']);
    net.settle();
    expect(net.core('n2').status().leader).toBe('n1');
    expect(net.core('n1').status().role).toBe('leader');
  });

  it('a lone false alarm cannot depose a healthy leader: the other follower is still in the lease', () => {
    const net = electedNet();
    net.core('n2').forgetLeader();
    net.campaign('n2');
    net.settle();
    expect(net.leader()).toBe('n1');
    expect(net.core('n1').status().term).toBe(2);
  });

  it('is ignored by a leader', () => {
    const net = electedNet();
    net.core('n1').forgetLeader();
    expect(net.core('n1').status().role).toBe('leader');
    expect(net.core('n1').status().leader).toBe('n1');
  });
});

import { describe, expect, it } from 'vitest';
import { TestNet, data, ids } from './harness.js';

// Dissertation §3.10: leadership transfer (TimeoutNow once the target is caught up).
describe('leadership transfer', () => {
  it('moves leadership to an up-to-date follower in the next term', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    const term = net.core('n1').status().term;
    net.core('n1').transferLeadership('n2');
    net.settle();
    expect(net.leader()).toBe('n2');
    expect(net.core('n2').status().term).toBe(term + 1);
  });

  it('catches a lagging target up first, then transfers', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    net.isolate('n3');
    for (let i = 0; i < 5; i++) net.core('n1').propose(data(`e${i}`));
    net.settle();
    net.heal();
    net.core('n1').transferLeadership('n3');
    net.settle();
    expect(net.leader()).toBe('n3');
    expect(net.core('n3').status().commit).toBeGreaterThanOrEqual(7);
  });

  it('drops proposals while a transfer is under way', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    net.isolate('n3');
    net.core('n1').transferLeadership('n3');
    expect(() => net.core('n1').propose(data('x'))).toThrow(expect.objectContaining({ reason: 'transferring-leadership' }));
  });

  it('gives up after an election timeout when the target never catches up', () => {
    const net = new TestNet(ids(3));
    net.campaign('n1');
    net.isolate('n3');
    net.core('n1').propose(data('x'));
    net.settle();
    net.core('n1').transferLeadership('n3');
    expect(net.core('n1').status().leadTransferee).toBe('n3');
    net.tick(10, ['n1']);
    expect(net.core('n1').status()).toMatchObject({ role: 'leader', leadTransferee: null });
    net.core('n1').propose(data('flows again'));
  });

  it('ignores a transfer to a learner', () => {
    const net = new TestNet(ids(2));
    net.campaign('n1');
    net.core('n1').transferLeadership('n9');
    net.settle();
    expect(net.leader()).toBe('n1');
    expect(net.core('n1').status().leadTransferee).toBeNull();
  });
});

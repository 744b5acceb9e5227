// The health rules behind the banner, the tray and its notifications: every state and every
// transition between them.
import { describe, expect, it } from 'vitest';
import { healthNotification, reachabilityLines, stoppedHealth, swarmHealth, type Health, type HealthState } from '../../../shared/health.js';
import type { SwarmNode, SwarmStatus } from '../../../shared/types.js';

function active(managers: number, reachableManagers: number, extra: Partial<{ nodes: number; readyNodes: number; leaderId: string | null; role: 'manager' | 'worker' }> = {}): SwarmStatus {
  return {
    state: 'active',
    nodeId: 'n1',
    clusterId: 'c1',
    role: extra.role ?? 'manager',
    nodeAddr: '10.0.0.1:2377',
    managers,
    reachableManagers,
    nodes: extra.nodes ?? managers,
    readyNodes: extra.readyNodes ?? extra.nodes ?? managers,
    leaderId: extra.leaderId === undefined ? 'n1' : extra.leaderId,
  };
}

function node(id: string, state: 'ready' | 'down'): SwarmNode {
  return {
    id,
    createdAt: '',
    updatedAt: '',
    spec: { role: 'worker', availability: 'active', labels: {} },
    role: 'worker',
    description: { hostname: id, platform: { os: 'linux', architecture: 'x86_64' }, resources: { cpus: 1, memoryBytes: 1 }, engineVersion: '' },
    status: { state, addr: '10.0.0.9', message: '' },
  };
}

describe('swarmHealth', () => {
  it('says "Not in a swarm" when inactive or unknown', () => {
    for (const status of [undefined, { state: 'inactive' } as const]) {
      const health = swarmHealth(status);
      expect(health.state).toBe('offline');
      expect(health.sentence).toBe('Not in a swarm');
    }
  });

  it('is healthy with every manager and node up', () => {
    expect(swarmHealth(active(3, 3))).toMatchObject({ state: 'healthy', level: 'healthy', sentence: 'Healthy — 3 managers, can lose 1', advice: '' });
    expect(swarmHealth(active(5, 5)).sentence).toBe('Healthy — 5 managers, can lose 2');
    expect(swarmHealth(active(1, 1)).sentence).toBe('Healthy — 1 manager, can lose none');
  });

  it('says 1 and 2 reachable managers the same way: healthy, can lose none, and what would change that (shared/quorum.ts rule)', () => {
    const one = swarmHealth(active(1, 1));
    const two = swarmHealth(active(2, 2));
    expect(one).toMatchObject({ state: 'healthy', level: 'healthy', sentence: 'Healthy — 1 manager, can lose none' });
    expect(two).toMatchObject({ state: 'healthy', level: 'healthy', sentence: 'Healthy — 2 managers, can lose none' });
    expect(one.advice).toBe('No manager can fail without stopping the swarm. With 3 managers it keeps working while one is down.');
    expect(two.advice).toBe('No manager can fail without stopping the swarm. 2 managers are no safer than 1. With 3 managers it keeps working while one is down.');
  });

  it('warns that quorum is at risk when failures have used up the tolerance', () => {
    expect(swarmHealth(active(3, 2))).toMatchObject({ state: 'degraded', level: 'at-risk', sentence: 'Quorum at risk — 2 of 3 managers reachable, can lose none' });
    expect(swarmHealth(active(4, 3))).toMatchObject({ state: 'degraded', level: 'at-risk', sentence: 'Quorum at risk — 3 of 4 managers reachable, can lose none' });
  });

  it('is degraded when a manager is unreachable while quorum holds with room to spare', () => {
    expect(swarmHealth(active(5, 4))).toMatchObject({ state: 'degraded', level: 'degraded', sentence: 'Degraded — 4 of 5 managers reachable, can lose 1' });
  });

  it('is degraded when a node is down, counting from the node list when given', () => {
    expect(swarmHealth(active(3, 3, { nodes: 4, readyNodes: 3 }))).toMatchObject({ state: 'degraded', sentence: 'Degraded — 1 of 4 nodes down; 3 managers, can lose 1' });
    const list = [node('a', 'ready'), node('b', 'ready'), node('c', 'ready'), node('d', 'down'), node('e', 'down')];
    expect(swarmHealth(active(3, 3, { nodes: 4, readyNodes: 4 }), list)).toMatchObject({ state: 'degraded', nodes: 5, readyNodes: 3, sentence: 'Degraded — 2 of 5 nodes down; 3 managers, can lose 1' });
  });

  it('says quorum is lost when too few managers are reachable', () => {
    expect(swarmHealth(active(3, 1, { leaderId: null }))).toMatchObject({ state: 'critical', level: 'quorum-lost', sentence: "Quorum lost — 1 of 3 managers reachable; the swarm can't change" });
    expect(swarmHealth(active(2, 1)).level).toBe('quorum-lost');
    expect(swarmHealth(active(3, 1)).advice).toContain('--force-new-cluster');
  });

  it('is critical with no leader even while quorum holds', () => {
    expect(swarmHealth(active(3, 3, { leaderId: null }))).toMatchObject({ state: 'critical', level: 'no-leader' });
  });

  it("on a worker, says it's a member without judging the managers it can't see", () => {
    expect(swarmHealth(active(0, 0, { role: 'worker', nodes: 0 }))).toMatchObject({ state: 'healthy', level: 'worker', sentence: 'In the swarm as a worker' });
  });

  it('has a stopped reading for the tray', () => {
    expect(stoppedHealth()).toMatchObject({ state: 'offline', sentence: 'Skep is stopped' });
  });

  it('gives the tray counts as x/y', () => {
    expect(reachabilityLines(swarmHealth(active(3, 2, { nodes: 4, readyNodes: 3 })))).toEqual({ managers: 'Managers reachable 2/3', nodes: 'Nodes ready 3/4' });
  });
});

describe('healthNotification', () => {
  const samples: Record<HealthState, Health> = {
    healthy: swarmHealth(active(3, 3)),
    degraded: swarmHealth(active(3, 2)),
    critical: swarmHealth(active(3, 1)),
    offline: swarmHealth({ state: 'inactive' }),
  };
  const titles: Record<HealthState, string> = { healthy: 'Swarm healthy', degraded: 'Swarm degraded', critical: 'Swarm in trouble', offline: 'Not in a swarm' };
  const states = Object.keys(samples) as HealthState[];

  it('stays quiet on the first reading', () => {
    for (const state of states) expect(healthNotification(undefined, samples[state])).toBeUndefined();
  });

  for (const from of states) {
    for (const to of states) {
      it(`${from} → ${to}: ${from === to ? 'no notification' : `"${titles[to]}"`}`, () => {
        const notification = healthNotification(samples[from], samples[to]);
        if (from === to) {
          expect(notification).toBeUndefined();
        } else {
          expect(notification?.title).toBe(titles[to]);
          expect(notification?.body.startsWith(samples[to].sentence)).toBe(true);
        }
      });
    }
  }

  it('does not notify when only the sentence changes within a state', () => {
    expect(healthNotification(swarmHealth(active(3, 2)), swarmHealth(active(5, 4)))).toBeUndefined();
  });
});

describe('a node that cannot do its part', () => {
  const base = { state: 'active', nodeId: 'n', clusterId: 'c', role: 'manager', nodeAddr: '1.2.3.4:2377', managers: 3, reachableManagers: 3, nodes: 3, readyNodes: 3, leaderId: 'n' } as const;

  it('a stopped manager is critical, says whether it retries, and gives the catalog text as advice', () => {
    const health = swarmHealth({ ...base, failure: { code: 'SWARM_FAILED', message: 'the disk is full. Free some space.', recovering: true } });
    expect(health).toMatchObject({ state: 'critical', level: 'failed', sentence: 'This manager has stopped — retrying', advice: 'the disk is full. Free some space.' });
  });

  it('a removed node says so', () => {
    expect(swarmHealth({ ...base, failure: { code: 'NODE_REMOVED', message: 'removed', recovering: false } })).toMatchObject({ state: 'critical', level: 'removed', sentence: 'Removed from the swarm' });
  });
});

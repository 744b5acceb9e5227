// The role manager against a plain Membership stand-in that holds a ConfState and records each
// call: every step it takes, in the order Raft allows, one step per reconcileOnce.
import { describe, expect, it } from 'vitest';
import type { Membership } from '../../../electron/swarm/roles/role-manager.js';
import { RoleManager } from '../../../electron/swarm/roles/role-manager.js';
import type { NodeRecord, SwarmStore } from '../../../electron/swarm/state/store.js';
import { nodeId, nodeRecord, storeWith, type CountingProposer } from './fixtures.js';

const LEADER = nodeId('m1');
const M2 = nodeId('m2');
const M3 = nodeId('m3');
const W1 = nodeId('w1');

/** Raft membership as plain data: changes apply at once, as a committed conf change would. */
class FakeMembership implements Membership {
  readonly calls: string[] = [];
  commit = 100;
  readonly progress: Record<string, { match: number }> = {};
  constructor(
    public voters: string[],
    public learners: string[] = [],
  ) {}

  status(): ReturnType<Membership['status']> {
    return { confState: { voters: [...this.voters], learners: [...this.learners] }, commit: this.commit, progress: { ...this.progress } };
  }

  async addLearner(id: string): Promise<void> {
    this.calls.push(`addLearner ${id}`);
    this.learners.push(id);
    await Promise.resolve();
  }

  async promote(id: string): Promise<void> {
    this.calls.push(`promote ${id}`);
    this.learners = this.learners.filter((l) => l !== id);
    this.voters.push(id);
    await Promise.resolve();
  }

  async remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    this.voters = this.voters.filter((v) => v !== id);
    this.learners = this.learners.filter((l) => l !== id);
    await Promise.resolve();
  }

  async transferLeadership(to: string): Promise<void> {
    this.calls.push(`transfer ${to}`);
    await Promise.resolve();
  }
}

async function setUp(nodes: readonly NodeRecord[], membership: FakeMembership): Promise<{ roles: RoleManager; store: SwarmStore; proposer: CountingProposer }> {
  const [founder, ...others] = nodes;
  if (!founder) throw new Error('no nodes');
  const { store, proposer } = await storeWith(founder, others);
  const roles = new RoleManager({ selfId: LEADER, state: () => store.state, proposer, membership });
  return { roles, store, proposer };
}

/** Runs steps until nothing is left (or leadership is being handed over), checking one step each. */
async function converge(roles: RoleManager, membership: FakeMembership, proposer: CountingProposer): Promise<string[]> {
  const steps: string[] = [];
  for (let i = 0; i < 20; i++) {
    const calls = membership.calls.length;
    const proposals = proposer.proposed.length;
    const step = await roles.reconcileOnce();
    expect(membership.calls.length - calls + proposer.proposed.length - proposals).toBe(step === undefined ? 0 : 1);
    if (step === undefined) return steps;
    steps.push(step);
    if (step.startsWith('transfer')) return steps;
  }
  throw new Error(`no fixpoint after 20 steps: ${steps.join(', ')}`);
}

describe('RoleManager.reconcileOnce', () => {
  it('does nothing when every role is in place', async () => {
    const membership = new FakeMembership([LEADER, M2]);
    const { roles, proposer } = await setUp([nodeRecord(LEADER, { role: 'manager' }), nodeRecord(M2, { role: 'manager' }), nodeRecord(W1)], membership);
    expect(await roles.reconcileOnce()).toBeUndefined();
    expect(membership.calls).toEqual([]);
    expect(proposer.proposed).toEqual([]);
  });

  it('makes actual roles follow the voters: a new voter becomes manager, a node out of Raft becomes worker', async () => {
    const membership = new FakeMembership([LEADER, M2]);
    const { roles, store } = await setUp([nodeRecord(LEADER, { role: 'manager' }), nodeRecord(M2, { role: 'worker', wanted: 'manager' }), nodeRecord(M3, { role: 'manager', wanted: 'worker' })], membership);
    expect(await roles.reconcileOnce()).toBe(`role ${M2} manager`);
    expect(store.state.nodes[M2]?.role).toBe('manager');
    expect(store.state.nodes[M3]?.role).toBe('manager');
    expect(await roles.reconcileOnce()).toBe(`role ${M3} worker`);
    expect(store.state.nodes[M3]?.role).toBe('worker');
    expect(await roles.reconcileOnce()).toBeUndefined();
    expect(membership.calls).toEqual([]);
  });

  it('removes a demoted voter from Raft, then records it as a worker', async () => {
    const membership = new FakeMembership([LEADER, M2, M3]);
    const { roles, store, proposer } = await setUp([nodeRecord(LEADER, { role: 'manager' }), nodeRecord(M2, { role: 'manager' }), nodeRecord(M3, { role: 'manager', wanted: 'worker' })], membership);
    expect(await converge(roles, membership, proposer)).toEqual([`remove ${M3}`, `role ${M3} worker`]);
    expect(membership.voters).toEqual([LEADER, M2]);
    expect(store.state.nodes[M3]?.role).toBe('worker');
  });

  it('removes a voter or learner the store no longer knows', async () => {
    const gone = nodeId('gone');
    const membership = new FakeMembership([LEADER, M2, gone], [nodeId('gone2')]);
    const { roles, proposer } = await setUp([nodeRecord(LEADER, { role: 'manager' }), nodeRecord(M2, { role: 'manager' })], membership);
    expect(await converge(roles, membership, proposer)).toEqual([`remove ${gone}`, `remove ${nodeId('gone2')}`]);
  });

  it('a demoted leader hands leadership to the most caught-up manager instead of removing itself', async () => {
    const membership = new FakeMembership([LEADER, M2, M3]);
    membership.progress[M2] = { match: 80 };
    membership.progress[M3] = { match: 95 };
    const { roles, store } = await setUp([nodeRecord(LEADER, { role: 'manager', wanted: 'worker' }), nodeRecord(M2, { role: 'manager' }), nodeRecord(M3, { role: 'manager' })], membership);
    expect(await roles.reconcileOnce()).toBe(`transfer ${M3}`);
    expect(membership.calls).toEqual([`transfer ${M3}`]);
    expect(membership.voters).toContain(LEADER);
    expect(store.state.nodes[LEADER]?.role).toBe('manager');
  });

  it('a demoted leader whose only would-be successor is still a learner first lets it catch up and become a voter', async () => {
    const next = nodeId('m4');
    const membership = new FakeMembership([LEADER, M2], [next]);
    membership.progress[next] = { match: 100 };
    const { roles, proposer } = await setUp(
      [nodeRecord(LEADER, { role: 'manager', wanted: 'worker' }), nodeRecord(M2, { role: 'manager', wanted: 'worker' }), nodeRecord(next, { role: 'worker', wanted: 'manager' })],
      membership,
    );
    expect(await converge(roles, membership, proposer)).toEqual([`remove ${M2}`, `role ${M2} worker`, `promote ${next}`, `role ${next} manager`, `transfer ${next}`]);
  });

  it('promotes a learner once it has caught up with the commit index, and not before', async () => {
    const membership = new FakeMembership([LEADER], [M2]);
    membership.commit = 100;
    membership.progress[M2] = { match: 99 };
    const { roles } = await setUp([nodeRecord(LEADER, { role: 'manager' }), nodeRecord(M2, { role: 'worker', wanted: 'manager' })], membership);
    expect(await roles.reconcileOnce()).toBeUndefined();
    expect(membership.learners).toEqual([M2]);
    membership.progress[M2] = { match: 100 };
    expect(await roles.reconcileOnce()).toBe(`promote ${M2}`);
    expect(membership.voters).toEqual([LEADER, M2]);
    expect(await roles.reconcileOnce()).toBe(`role ${M2} manager`);
  });

  it('a learner without any progress known is not promoted', async () => {
    const membership = new FakeMembership([LEADER], [M2]);
    const { roles } = await setUp([nodeRecord(LEADER, { role: 'manager' }), nodeRecord(M2, { role: 'worker', wanted: 'manager' })], membership);
    expect(await roles.reconcileOnce()).toBeUndefined();
    expect(membership.calls).toEqual([]);
  });

  it('adds a wanted manager as a learner only once it is Ready and its cluster address is known', async () => {
    const membership = new FakeMembership([LEADER]);
    const { roles, store, proposer } = await setUp(
      [nodeRecord(LEADER, { role: 'manager' }), { ...nodeRecord(M2, { wanted: 'manager', state: 'unknown' }), clusterAddr: '' }],
      membership,
    );
    expect(await roles.reconcileOnce()).toBeUndefined();
    await proposer.propose({ op: 'node.status', id: M2, at: 'x', state: 'ready', message: '' });
    // Ready, but nobody knows where to reach it yet.
    expect(await roles.reconcileOnce()).toBeUndefined();
    await proposer.propose({ op: 'node.register', node: { ...nodeRecord(M2, { state: 'down' }), clusterAddr: '10.0.0.2:4789' } });
    expect(store.state.nodes[M2]?.spec.role).toBe('manager');
    // Reachable, but Down.
    expect(await roles.reconcileOnce()).toBeUndefined();
    await proposer.propose({ op: 'node.status', id: M2, at: 'x', state: 'ready', message: '' });
    expect(await roles.reconcileOnce()).toBe(`learner ${M2}`);
    expect(membership.learners).toEqual([M2]);
    // A learner is not added twice.
    expect(await roles.reconcileOnce()).toBeUndefined();
    expect(membership.calls).toEqual([`addLearner ${M2}`]);
  });

  it('takes one step per call, in order: roles, removals, promotions, additions', async () => {
    const learner = nodeId('l1');
    const newcomer = nodeId('n1');
    const membership = new FakeMembership([LEADER, M2, M3], [learner]);
    membership.progress[learner] = { match: 100 };
    const { roles, proposer } = await setUp(
      [
        nodeRecord(LEADER, { role: 'manager' }),
        nodeRecord(M2, { role: 'worker' /* a voter recorded as worker */, wanted: 'manager' }),
        nodeRecord(M3, { role: 'manager', wanted: 'worker' }),
        nodeRecord(learner, { wanted: 'manager' }),
        nodeRecord(newcomer, { wanted: 'manager' }),
        nodeRecord(W1),
      ],
      membership,
    );
    expect(await converge(roles, membership, proposer)).toEqual([
      `role ${M2} manager`,
      `remove ${M3}`,
      `role ${M3} worker`,
      `promote ${learner}`,
      `role ${learner} manager`,
      `learner ${newcomer}`,
    ]);
    expect(membership.voters.sort()).toEqual([LEADER, M2, learner].sort());
    expect(membership.learners).toEqual([newcomer]);
  });

  it('a failed membership change is reported by the tick, and the next tick tries again', async () => {
    const membership = new FakeMembership([LEADER, M2, M3]);
    let fail = true;
    const remove = membership.remove.bind(membership);
    membership.remove = async (id: string) => {
      if (fail) throw new Error('proposal dropped');
      await remove(id);
    };
    const errors: unknown[] = [];
    const { store, proposer } = await storeWith(nodeRecord(LEADER, { role: 'manager' }), [nodeRecord(M2, { role: 'manager' }), nodeRecord(M3, { role: 'manager', wanted: 'worker' })]);
    const roles = new RoleManager({ selfId: LEADER, state: () => store.state, proposer, membership, periodMs: 5, onError: (e) => errors.push(e) });
    roles.start();
    try {
      await expect.poll(() => errors.length).toBeGreaterThan(0);
      fail = false;
      await expect.poll(() => store.state.nodes[M3]?.role).toBe('worker');
    } finally {
      roles.stop();
    }
    expect(membership.voters).toEqual([LEADER, M2]);
    expect((errors[0] as Error).message).toBe('proposal dropped');
  });
});

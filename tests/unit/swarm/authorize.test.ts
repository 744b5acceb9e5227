// Manager.authorize's rules, called on a stand-in that has only what the rules read: the store's
// state and the Raft configuration. (The manager itself needs a Raft node; the cluster tests run
// the real one.)
import { describe, expect, it } from 'vitest';
import type { SkepError } from '../../../shared/errors.js';
import type { PeerIdentity } from '../../../electron/net/index.js';
import type { Caller } from '../../../electron/protocol/index.js';
import type { ConfState } from '../../../electron/raft/types.js';
import { RaftStore } from '../../../electron/swarm/state/raft-store.js';
import { Manager } from '../../../electron/swarm/manager.js';
import { SwarmStore } from '../../../electron/swarm/state/store.js';
import { clusterRecord, nodeId, nodeRecord } from './fixtures.js';

const M1 = nodeId('m1');
const M2 = nodeId('m2');
const LEARNER = nodeId('l1');
const W1 = nodeId('w1');
const GONE = nodeId('gone');
const STRANGER = nodeId('zz');

function authorizer(conf: ConfState): (peer: PeerIdentity, callers: Caller) => SkepError | undefined {
  const store = new SwarmStore();
  store.apply({ op: 'cluster.create', cluster: clusterRecord(), node: nodeRecord(M1, { role: 'manager' }) }, 1);
  for (const node of [nodeRecord(M2, { role: 'manager' }), nodeRecord(LEARNER, { wanted: 'manager' }), nodeRecord(W1), nodeRecord(GONE, { state: 'down' })]) store.apply({ op: 'node.register', node }, 2);
  store.apply({ op: 'node.remove', id: GONE }, 3);
  const raft = {
    store,
    confState: () => conf,
    isMember: (id: string) => conf.voters.includes(id) || conf.learners.includes(id),
    mayBeNewerMember: (id: string) => RaftStore.prototype.mayBeNewerMember.call({ store } as unknown as RaftStore, id),
  };
  return (peer, callers) => Manager.prototype.authorize.call({ raft } as unknown as Manager, peer, callers);
}

const manager = (id: string): PeerIdentity => ({ nodeId: id, role: 'swarm-manager' });
const worker = (id: string): PeerIdentity => ({ nodeId: id, role: 'swarm-worker' });
const CONF: ConfState = { voters: [M1, M2, GONE], learners: [LEARNER] };

describe('Manager.authorize', () => {
  it('refuses a removed node everything, with the text that tells it what to do', () => {
    const check = authorizer(CONF);
    for (const callers of ['raft-member', 'node'] as const) {
      for (const peer of [manager(GONE), worker(GONE)]) {
        const error = check(peer, callers);
        expect(error?.code).toBe('NODE_REMOVED');
        expect(error?.message).toContain('skep swarm leave --force');
      }
    }
  });

  it('Raft methods: voters and learners holding a manager certificate', () => {
    const check = authorizer(CONF);
    expect(check(manager(M1), 'raft-member')).toBeUndefined();
    expect(check(manager(M2), 'raft-member')).toBeUndefined();
    expect(check(manager(LEARNER), 'raft-member')).toBeUndefined();
  });

  it('Raft methods: not a worker certificate, even of a Raft member', () => {
    const error = authorizer(CONF)(worker(M2), 'raft-member');
    expect(error?.message).toBe('permission denied: raft: only managers may call this');
  });

  it('Raft methods: not a manager certificate of a node the store knows as a worker', () => {
    const check = authorizer(CONF);
    expect(check(manager(W1), 'raft-member')?.message).toBe('permission denied: raft: the caller is not a member of the Raft group');
  });

  it('Raft methods: a manager this one has never heard of may be a member added after its log ends', () => {
    expect(authorizer(CONF)(manager(STRANGER), 'raft-member')).toBeUndefined();
    expect(authorizer({ voters: [M1, M2], learners: [] })(manager(LEARNER), 'raft-member')).toBeUndefined();
  });

  it('Raft methods: before this manager knows any configuration, any manager certificate of the swarm', () => {
    expect(authorizer({ voters: [], learners: [] })(manager(STRANGER), 'raft-member')).toBeUndefined();
  });

  it('node methods: any node the store knows, with either certificate; nobody else', () => {
    const check = authorizer(CONF);
    expect(check(worker(W1), 'node')).toBeUndefined();
    expect(check(manager(M1), 'node')).toBeUndefined();
    expect(check(worker(LEARNER), 'node')).toBeUndefined();
    expect(check(worker(STRANGER), 'node')?.message).toBe('permission denied: node: the caller is not a node of this swarm');
  });
});

// The control API on an in-memory store: Docker's name resolution and refusals for `node …`, and
// the swarm's join tokens and certificate renewal (with a real CA).
import { beforeAll, describe, expect, it } from 'vitest';
import { SkepError, skepError } from '../../../shared/errors.js';
import type { RaftMemberView, RaftView } from '../../../shared/types.js';
import { caDigest, createNodeKeyAndCsr, createRootCA, formatJoinToken, parseJoinToken, readNodeCertificate, verifyNodeCertificate, type CertificateAuthority } from '../../../electron/swarm/ca/index.js';
import { ClusterControl } from '../../../electron/swarm/controlapi/cluster.js';
import { NodeControl } from '../../../electron/swarm/controlapi/nodes.js';
import type { NodeRecord, SwarmStore } from '../../../electron/swarm/state/store.js';
import { clusterRecord, MANAGER_SECRET, nodeId, WORKER_SECRET, nodeRecord, storeWith, type CountingProposer } from './fixtures.js';

const M1 = nodeId('m1');
const M2 = nodeId('m2');
const M3 = nodeId('m3');
const W1 = nodeId('w1');

function member(id: string, reachable = true, role: RaftMemberView['role'] = 'follower'): RaftMemberView {
  return { nodeId: id, hostname: '', addr: '', role, reachable, matchIndex: null, lag: null, lastContactMs: null };
}

interface Fixture {
  readonly control: NodeControl;
  readonly store: SwarmStore;
  readonly proposer: CountingProposer;
  view: RaftView;
  members: Set<string>;
  barrierFails: boolean;
}

async function nodeControl(nodes: readonly NodeRecord[], voters: readonly RaftMemberView[] = []): Promise<Fixture> {
  const [founder, ...others] = nodes;
  if (!founder) throw new Error('no nodes');
  const { store, proposer } = await storeWith(founder, others);
  const fixture: Fixture = {
    store,
    proposer,
    view: { term: 3, leaderId: voters[0]?.nodeId ?? null, commitIndex: 10, appliedIndex: 10, members: voters },
    members: new Set(voters.map((v) => v.nodeId)),
    barrierFails: false,
    control: undefined as unknown as NodeControl,
  };
  return Object.assign(fixture, {
    control: new NodeControl({
      selfId: founder.id,
      state: () => store.state,
      proposer,
      readBarrier: async () => {
        if (fixture.barrierFails) throw skepError('NO_LEADER');
        await Promise.resolve();
      },
      raftView: () => fixture.view,
      isRaftMember: (id) => fixture.members.has(id),
    }),
  });
}

function caught(fn: () => unknown): SkepError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkepError);
    return error as SkepError;
  }
  throw new Error('expected a refusal');
}

async function refused(promise: Promise<unknown>): Promise<SkepError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SkepError);
  return error as SkepError;
}

describe('NodeControl.resolve: as Docker resolves node names', () => {
  const ALPHA = nodeId('ab1');
  const BETA = nodeId('ab2');
  const GAMMA = nodeId('c');
  let f: Fixture;
  beforeAll(async () => {
    f = await nodeControl([
      nodeRecord(ALPHA, { hostname: 'alpha', role: 'manager' }),
      nodeRecord(BETA, { hostname: 'twin' }),
      nodeRecord(GAMMA, { hostname: 'twin' }),
      nodeRecord(W1, { hostname: 'ab' }),
    ]);
  });

  it('by full ID, by hostname, by unique ID prefix, and "self"', () => {
    expect(f.control.resolve(BETA).id).toBe(BETA);
    expect(f.control.resolve('alpha').id).toBe(ALPHA);
    expect(f.control.resolve('ab2').id).toBe(BETA);
    expect(f.control.resolve('self').id).toBe(ALPHA);
  });

  it('a hostname wins over an ID prefix it also is', () => {
    // "ab" is W1's hostname and the prefix of two IDs.
    expect(f.control.resolve('ab').id).toBe(W1);
  });

  it('an ambiguous hostname or prefix is refused with the number of matches', () => {
    const byHostname = caught(() => f.control.resolve('twin'));
    expect(byHostname.code).toBe('NODE_AMBIGUOUS');
    expect(byHostname.message).toBe('node twin is ambiguous (2 matches found)');
    const byPrefix = caught(() => f.control.resolve('a'));
    expect(byPrefix.message).toBe(skepError('NODE_AMBIGUOUS', 'a', 2).message);
  });

  it('an unknown name is refused with Docker\'s text', () => {
    const error = caught(() => f.control.resolve('nosuch'));
    expect(error.code).toBe('NODE_NOT_FOUND');
    expect(error.message).toBe('node nosuch not found');
  });
});

describe('NodeControl: list and inspect', () => {
  it('lists by hostname, with manager status for voters only; without a leader the read fails, as Docker\'s', async () => {
    const f = await nodeControl(
      [nodeRecord(M1, { hostname: 'c-manager', role: 'manager' }), nodeRecord(M2, { hostname: 'a-manager', role: 'manager' }), nodeRecord(W1, { hostname: 'b-worker' })],
      [member(M1, true, 'leader'), member(M2, false), member(W1, true, 'learner')],
    );
    f.barrierFails = true;
    await expect(f.control.list()).rejects.toThrow();
    await expect(f.control.inspect('b-worker')).rejects.toThrow();
    f.barrierFails = false;
    const nodes = await f.control.list();
    expect(nodes.map((n) => n.description.hostname)).toEqual(['a-manager', 'b-worker', 'c-manager']);
    expect(nodes[0]?.managerStatus).toEqual({ leader: false, reachability: 'unreachable', addr: '10.0.0.1:4789' });
    expect(nodes[1]?.managerStatus).toBeUndefined();
    expect(nodes[2]?.managerStatus).toEqual({ leader: true, reachability: 'reachable', addr: '10.0.0.1:4789' });
    expect((await f.control.inspect('b-worker')).certificate).toEqual({ notAfter: nodeRecord(W1).certNotAfter });
  });
});

describe('NodeControl: promote and demote', () => {
  it('promote sets the wanted role only; promoting a manager proposes nothing', async () => {
    const f = await nodeControl([nodeRecord(M1, { role: 'manager' }), nodeRecord(W1, { hostname: 'w1' })], [member(M1, true, 'leader')]);
    await f.control.promote('w1');
    expect(f.store.state.nodes[W1]?.spec.role).toBe('manager');
    expect(f.store.state.nodes[W1]?.role).toBe('worker');
    await f.control.promote('w1');
    expect(f.proposer.proposed).toHaveLength(1);
  });

  it('refuses to demote the last manager', async () => {
    const f = await nodeControl([nodeRecord(M1, { role: 'manager' }), nodeRecord(W1)], [member(M1, true, 'leader')]);
    const error = await refused(f.control.demote(M1));
    expect(error.message).toBe('attempting to demote the last manager of the swarm');
    expect(f.proposer.proposed).toEqual([]);
  });

  it('refuses a demotion that would leave the remaining voters without quorum', async () => {
    const f = await nodeControl(
      [nodeRecord(M1, { role: 'manager' }), nodeRecord(M2, { role: 'manager' }), nodeRecord(M3, { role: 'manager' })],
      [member(M1, true, 'leader'), member(M2, true), member(M3, false)],
    );
    // Demoting M2 leaves M1 and the unreachable M3: 1 of 2 is no quorum.
    const error = await refused(f.control.demote(M2));
    expect(error.code).toBe('DEMOTE_LOSES_QUORUM');
    expect(error.message).toBe('can\'t remove member from the raft: this would result in a loss of quorum');
    // Demoting the unreachable one leaves 2 of 2.
    await f.control.demote(M3);
    expect(f.store.state.nodes[M3]?.spec.role).toBe('worker');
  });

  it('a wanted manager that is not yet a voter is demoted without the quorum check; demoting a worker proposes nothing', async () => {
    const f = await nodeControl(
      [nodeRecord(M1, { role: 'manager' }), nodeRecord(M2, { role: 'manager' }), nodeRecord(W1, { wanted: 'manager' })],
      [member(M1, true, 'leader'), member(M2, false), member(W1, true, 'learner')],
    );
    await f.control.demote(W1);
    expect(f.store.state.nodes[W1]?.spec.role).toBe('worker');
    await f.control.demote(W1);
    expect(f.proposer.proposed).toHaveLength(1);
  });
});

describe('NodeControl: remove', () => {
  it('refuses to remove a manager, a wanted manager or a Raft member, even with force', async () => {
    const learner = nodeId('l1');
    const f = await nodeControl(
      [nodeRecord(M1, { role: 'manager' }), nodeRecord(M2, { role: 'manager', wanted: 'worker', state: 'down' }), nodeRecord(W1, { wanted: 'manager', state: 'down' }), nodeRecord(learner, { state: 'down' })],
      [member(M1, true, 'leader'), member(M2, false), member(learner, false, 'learner')],
    );
    for (const id of [M2, W1, learner]) {
      const error = await refused(f.control.remove(id, true));
      expect(error.code).toBe('REMOVE_MANAGER');
      expect(error.message).toBe(`node ${id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
    }
    expect(f.proposer.proposed).toEqual([]);
  });

  it('removing the only manager says so, not the demote refusal', async () => {
    const f = await nodeControl([nodeRecord(M1, { role: 'manager' }), nodeRecord(W1)], [member(M1, true, 'leader')]);
    const error = await refused(f.control.remove(M1, true));
    expect(error.code).toBe('REMOVE_LAST_MANAGER');
    expect(error.message).toBe(`node ${M1} is the swarm's only manager, so it can't be demoted or removed. To end the swarm, run "skep swarm leave --force" on it; to keep the swarm, promote another node to manager first.`);
    expect(f.proposer.proposed).toEqual([]);
  });

  it('refuses a node that is not Down unless forced; a removed node is gone and cannot come back', async () => {
    const f = await nodeControl([nodeRecord(M1, { role: 'manager' }), nodeRecord(W1, { hostname: 'w1' }), nodeRecord(M2, { hostname: 'gone', state: 'down' })]);
    const error = await refused(f.control.remove('w1', false));
    expect(error.message).toBe(`node ${W1} is not down and can't be removed`);
    expect(await f.control.remove('gone', false)).toBe(M2);
    expect(await f.control.remove('w1', true)).toBe(W1);
    expect(Object.keys(f.store.state.nodes)).toEqual([M1]);
    expect(f.store.state.removed).toEqual([M2, W1]);
    await expect(f.proposer.propose({ op: 'node.register', node: nodeRecord(W1) })).rejects.toThrow(`node ${W1} was removed from the swarm`);
  });
});

describe('NodeControl: update', () => {
  it('adds and removes labels and sets availability, keeping the other labels', async () => {
    const f = await nodeControl([nodeRecord(M1, { role: 'manager' }), nodeRecord(W1, { hostname: 'w1', labels: { keep: '1', drop: '2' } })]);
    await f.control.update('w1', { labelAdd: { zone: 'east' }, labelRm: ['drop'] });
    expect(f.store.state.nodes[W1]?.spec).toEqual({ role: 'worker', availability: 'active', labels: { keep: '1', zone: 'east' } });
    await f.control.update('w1', { availability: 'drain' });
    expect(f.store.state.nodes[W1]?.spec).toEqual({ role: 'worker', availability: 'drain', labels: { keep: '1', zone: 'east' } });
    await expect(f.control.update('nosuch', { availability: 'pause' })).rejects.toThrow('node nosuch not found');
  });

  it('refuses to remove a label the node does not have, as Docker does, and changes nothing', async () => {
    const f = await nodeControl([nodeRecord(M1, { role: 'manager' }), nodeRecord(W1, { hostname: 'w1', labels: { keep: '1' } })]);
    const error = await refused(f.control.update('w1', { labelAdd: { zone: 'east' }, labelRm: ['keep', 'nosuch'] }));
    expect(error.code).toBe('LABEL_NOT_FOUND');
    expect(error.message).toBe('key nosuch doesn\'t exist in node\'s labels');
    expect(f.proposer.proposed).toEqual([]);
    // A label added in the same update may be removed in it too.
    await f.control.update('w1', { labelAdd: { zone: 'east' }, labelRm: ['zone'] });
    expect(f.store.state.nodes[W1]?.spec.labels).toEqual({ keep: '1' });
  });
});

describe('ClusterControl', () => {
  let ca: CertificateAuthority;
  beforeAll(async () => {
    ca = await createRootCA();
  });

  async function clusterControl(nodes: readonly NodeRecord[]): Promise<{ control: ClusterControl; store: SwarmStore }> {
    const [founder, ...others] = nodes;
    if (!founder) throw new Error('no nodes');
    const { store, proposer } = await storeWith(founder, others, clusterRecord({ ca }));
    return { control: new ClusterControl({ state: () => store.state, proposer }), store };
  }

  it('shows each role\'s token; rotating one changes only that one, and its old secret stops matching', async () => {
    const { control, store } = await clusterControl([nodeRecord(M1, { role: 'manager' })]);
    const worker = await control.joinToken('worker', false);
    const manager = await control.joinToken('manager', false);
    expect(worker).toBe(formatJoinToken(caDigest(ca.certPem), WORKER_SECRET));
    expect(parseJoinToken(manager).secret).toBe(MANAGER_SECRET);

    const rotated = await control.joinToken('worker', true);
    expect(rotated).not.toBe(worker);
    expect(parseJoinToken(rotated).caDigest).toBe(caDigest(ca.certPem));
    expect(await control.joinToken('worker', false)).toBe(rotated);
    expect(await control.joinToken('manager', false)).toBe(manager);
    expect(store.state.cluster?.tokenSecrets.manager).toBe(MANAGER_SECRET);
    expect(control.matchJoinSecret(WORKER_SECRET)).toBeNull();
    expect(control.matchJoinSecret(parseJoinToken(rotated).secret)).toBe('swarm-worker');
    expect(control.matchJoinSecret(MANAGER_SECRET)).toBe('swarm-manager');

    await control.joinToken('manager', true);
    expect(await control.joinToken('manager', false)).not.toBe(manager);
    expect(await control.joinToken('worker', false)).toBe(rotated);
  });

  it('renews a certificate with the role the store wants for the node, whatever its old certificate said', async () => {
    const promoted = nodeId('p1');
    const { control } = await clusterControl([nodeRecord(M1, { role: 'manager' }), nodeRecord(promoted, { role: 'worker', wanted: 'manager' }), nodeRecord(W1)]);
    const { csrPem } = await createNodeKeyAndCsr();
    for (const [id, role] of [[M1, 'swarm-manager'], [promoted, 'swarm-manager'], [W1, 'swarm-worker']] as const) {
      const certPem = await control.renewCertificate(id, csrPem);
      const info = verifyNodeCertificate(certPem, ca.certPem);
      expect({ id: info.nodeId, role: info.role }).toEqual({ id, role });
      expect(readNodeCertificate(certPem).nodeId).toBe(id);
    }
    const error = await refused(control.renewCertificate(nodeId('zz'), csrPem));
    expect(error.message).toBe(`node ${nodeId('zz')} not found`);
  });

  it('a demoted manager keeps a manager certificate while it still votes in Raft, and gets a worker one once it left', async () => {
    const { control, store } = await clusterControl([nodeRecord(M1, { role: 'manager' }), nodeRecord(M2, { role: 'manager', wanted: 'worker' })]);
    const { csrPem } = await createNodeKeyAndCsr();
    expect(readNodeCertificate(await control.renewCertificate(M2, csrPem)).role).toBe('swarm-manager');
    // The role manager removed it from Raft and recorded that.
    store.apply({ op: 'node.role', id: M2, at: 'x', role: 'worker' }, 50);
    expect(readNodeCertificate(await control.renewCertificate(M2, csrPem)).role).toBe('swarm-worker');
  });

  it('without a swarm there is nothing to show, match or sign', async () => {
    const control = new ClusterControl({ state: () => ({ cluster: null, nodes: {}, removed: [] }), proposer: { propose: () => Promise.reject(new Error('no proposals expected')) } });
    expect((await refused(control.joinToken('worker', false))).code).toBe('NO_LEADER');
    expect(control.matchJoinSecret(WORKER_SECRET)).toBeNull();
  });
});

// The replicated state machine on its own: each command's effect and refusal, versions that follow
// the Raft index, the change feed, snapshots, and the two rules that outlive a node (removal is
// final; force-new-cluster keeps only the survivor as manager).
import { describe, expect, it } from 'vitest';
import { applyCommand, decodeCommand, EMPTY_STATE, encodeCommand, SwarmStore, type Command, type StoreChange, type SwarmState } from '../../../electron/swarm/state/store.js';
import { clusterRecord, description, MANAGER_SECRET, nodeId, nodeRecord, T0 } from './fixtures.js';

const M = nodeId('m1');
const W = nodeId('w1');
const AT = '2026-11-29T20:05:00.000Z';

/** A swarm of one manager (index 1) and one worker (index 2). */
function founded(): SwarmState {
  let state = applyCommand(EMPTY_STATE, { op: 'cluster.create', cluster: clusterRecord(), node: nodeRecord(M, { role: 'manager' }) }, 1).state;
  state = applyCommand(state, { op: 'node.register', node: nodeRecord(W) }, 2).state;
  return state;
}

function refusal(state: SwarmState, command: Command): string {
  const { state: after, result } = applyCommand(state, command, 99);
  expect(after).toBe(state);
  if (result.ok) throw new Error(`${command.op} was applied`);
  return result.reason;
}

describe('applyCommand: each command', () => {
  it('cluster.create founds the swarm with its first node; a second create is refused', () => {
    const state = founded();
    expect(state.cluster?.id).toBe(clusterRecord().id);
    expect(Object.keys(state.nodes).sort()).toEqual([M, W].sort());
    expect(refusal(state, { op: 'cluster.create', cluster: clusterRecord({ id: 'other' }), node: nodeRecord(W) })).toBe('the swarm already exists');
  });

  it('node.register adds a node; a retried join keeps the spec, role and creation time the swarm decided', () => {
    let state = founded();
    state = applyCommand(state, { op: 'node.spec', id: W, at: AT, role: 'manager', labelAdd: { zone: 'a' } }, 3).state;
    state = applyCommand(state, { op: 'node.role', id: W, at: AT, role: 'manager' }, 4).state;
    const retried = { ...nodeRecord(W, { hostname: 'renamed' }), createdAt: AT };
    const { state: after, result } = applyCommand(state, { op: 'node.register', node: retried }, 5);
    expect(result.ok).toBe(true);
    const node = after.nodes[W];
    expect(node?.spec).toEqual({ role: 'manager', availability: 'active', labels: { zone: 'a' } });
    expect(node?.role).toBe('manager');
    expect(node?.createdAt).toBe(T0);
    expect(node?.description.hostname).toBe('renamed');
  });

  it('node.spec sets the wanted role and availability, adds and removes labels, and leaves the rest', () => {
    let state = applyCommand(founded(), { op: 'node.spec', id: W, at: AT, labelAdd: { zone: 'a', disk: 'ssd' } }, 3).state;
    state = applyCommand(state, { op: 'node.spec', id: W, at: AT, availability: 'drain', labelAdd: { zone: 'b' }, labelRm: ['disk'] }, 4).state;
    const node = state.nodes[W];
    expect(node?.spec).toEqual({ role: 'worker', availability: 'drain', labels: { zone: 'b' } });
    expect(node?.role).toBe('worker');
    expect(node?.updatedAt).toBe(AT);
    state = applyCommand(state, { op: 'node.spec', id: W, at: AT, role: 'manager' }, 5).state;
    expect(state.nodes[W]?.spec).toEqual({ role: 'manager', availability: 'drain', labels: { zone: 'b' } });
    // The wanted role is not the actual one: that follows Raft membership (node.role).
    expect(state.nodes[W]?.role).toBe('worker');
    expect(refusal(state, { op: 'node.spec', id: nodeId('x'), at: AT, availability: 'pause' })).toBe(`node ${nodeId('x')} not found`);
  });

  it('node.role sets the actual role only', () => {
    const state = applyCommand(founded(), { op: 'node.role', id: W, at: AT, role: 'manager' }, 3).state;
    expect(state.nodes[W]?.role).toBe('manager');
    expect(state.nodes[W]?.spec.role).toBe('worker');
    expect(refusal(state, { op: 'node.role', id: nodeId('x'), at: AT, role: 'manager' })).toBe(`node ${nodeId('x')} not found`);
  });

  it('node.status records state and message, and keeps address, description and certificate when not given', () => {
    let state = applyCommand(founded(), { op: 'node.status', id: W, at: AT, state: 'down', message: 'heartbeat failure' }, 3).state;
    expect(state.nodes[W]?.status).toEqual({ state: 'down', addr: '10.0.0.1', message: 'heartbeat failure' });
    expect(state.nodes[W]?.description).toEqual(nodeRecord(W).description);
    state = applyCommand(state, { op: 'node.status', id: W, at: AT, state: 'ready', message: '', addr: '10.0.0.9', description: description('w1-new'), certNotAfter: '2027-03-01T00:00:00.000Z' }, 4).state;
    expect(state.nodes[W]?.status).toEqual({ state: 'ready', addr: '10.0.0.9', message: '' });
    expect(state.nodes[W]?.description.hostname).toBe('w1-new');
    expect(state.nodes[W]?.certNotAfter).toBe('2027-03-01T00:00:00.000Z');
    expect(refusal(state, { op: 'node.status', id: nodeId('x'), at: AT, state: 'ready', message: '' })).toBe(`node ${nodeId('x')} not found`);
  });

  it('node.remove drops the node and remembers its ID; removing it again is refused', () => {
    const state = applyCommand(founded(), { op: 'node.remove', id: W }, 3).state;
    expect(state.nodes[W]).toBeUndefined();
    expect(state.removed).toEqual([W]);
    expect(refusal(state, { op: 'node.remove', id: W })).toBe(`node ${W} not found`);
  });

  it('a removed node cannot register again, not even with its old record', () => {
    const state = applyCommand(founded(), { op: 'node.remove', id: W }, 3).state;
    expect(refusal(state, { op: 'node.register', node: nodeRecord(W) })).toBe(`node ${W} was removed from the swarm`);
  });

  it('tokens.rotate replaces only the rotated role\'s secret; without a swarm it is refused', () => {
    const state = applyCommand(founded(), { op: 'tokens.rotate', role: 'worker', secret: 'n'.repeat(25) }, 3).state;
    expect(state.cluster?.tokenSecrets).toEqual({ worker: 'n'.repeat(25), manager: MANAGER_SECRET });
    expect(refusal(EMPTY_STATE, { op: 'tokens.rotate', role: 'manager', secret: 'n'.repeat(25) })).toBe('no swarm');
  });

  it('cluster.forceNew keeps the survivor a manager and turns every other manager into a Down worker', () => {
    const other = nodeId('m2');
    const third = nodeId('m3');
    let state = founded();
    for (const id of [other, third]) state = applyCommand(state, { op: 'node.register', node: nodeRecord(id, { role: 'manager' }) }, 3).state;
    const { state: after, result } = applyCommand(state, { op: 'cluster.forceNew', survivor: M, at: AT }, 7);
    expect(result.ok).toBe(true);
    expect(after.nodes[M]).toEqual(state.nodes[M]);
    expect(after.nodes[W]).toEqual(state.nodes[W]);
    for (const id of [other, third]) {
      const node = after.nodes[id];
      expect(node?.role).toBe('worker');
      expect(node?.spec.role).toBe('worker');
      expect(node?.status.state).toBe('down');
      expect(node?.status.message).toBe('left behind by --force-new-cluster');
      expect(node?.updatedAt).toBe(AT);
      expect(node?.version).toBe(7);
    }
  });

  it('does not change the state it was given', () => {
    const state = founded();
    const copy = structuredClone(state);
    for (const command of [
      { op: 'node.spec', id: W, at: AT, labelAdd: { a: 'b' }, labelRm: ['a'] },
      { op: 'node.status', id: W, at: AT, state: 'down', message: 'x' },
      { op: 'node.remove', id: W },
      { op: 'tokens.rotate', role: 'manager', secret: 'n'.repeat(25) },
      { op: 'cluster.forceNew', survivor: W, at: AT },
    ] satisfies Command[]) {
      applyCommand(state, command, 5);
    }
    expect(state).toEqual(copy);
  });
});

describe('versions', () => {
  it('each write stamps the node with the Raft index it was applied at; other nodes keep theirs', () => {
    let state = founded();
    expect(state.nodes[M]?.version).toBe(1);
    expect(state.nodes[W]?.version).toBe(2);
    state = applyCommand(state, { op: 'node.spec', id: W, at: AT, availability: 'pause' }, 10).state;
    state = applyCommand(state, { op: 'node.role', id: M, at: AT, role: 'manager' }, 11).state;
    state = applyCommand(state, { op: 'node.status', id: W, at: AT, state: 'ready', message: '' }, 12).state;
    expect(state.nodes[M]?.version).toBe(11);
    expect(state.nodes[W]?.version).toBe(12);
    // A refused write leaves the version where it was.
    state = applyCommand(state, { op: 'cluster.create', cluster: clusterRecord(), node: nodeRecord(W) }, 13).state;
    expect(state.nodes[W]?.version).toBe(12);
  });

  it('a version in a proposed record is never trusted: the index wins', () => {
    const state = applyCommand(founded(), { op: 'node.register', node: { ...nodeRecord(nodeId('w2')), version: 999 } }, 4).state;
    expect(state.nodes[nodeId('w2')]?.version).toBe(4);
  });
});

describe('SwarmStore: the change feed', () => {
  it('delivers each applied change once, in order, with the previous and next state and the command', () => {
    const store = new SwarmStore();
    const changes: StoreChange[] = [];
    store.watch((change) => changes.push(change));
    const create: Command = { op: 'cluster.create', cluster: clusterRecord(), node: nodeRecord(M, { role: 'manager' }) };
    const register: Command = { op: 'node.register', node: nodeRecord(W) };
    expect(store.apply(create, 1)).toEqual({ ok: true });
    const afterCreate = store.state;
    expect(store.apply(register, 2)).toEqual({ ok: true });
    expect(changes).toHaveLength(2);
    expect(changes[0]).toEqual({ index: 1, previous: EMPTY_STATE, state: afterCreate, command: create });
    expect(changes[1]?.previous).toBe(afterCreate);
    expect(changes[1]?.state).toBe(store.state);
    expect(changes[1]?.index).toBe(2);
    expect(changes[1]?.command).toBe(register);
  });

  it('stays silent on a refused command, and the state does not move', () => {
    const store = new SwarmStore();
    store.apply({ op: 'cluster.create', cluster: clusterRecord(), node: nodeRecord(M, { role: 'manager' }) }, 1);
    const before = store.state;
    const changes: StoreChange[] = [];
    store.watch((change) => changes.push(change));
    const result = store.apply({ op: 'node.status', id: W, at: AT, state: 'ready', message: '' }, 2);
    expect(result).toEqual({ ok: false, reason: `node ${W} not found` });
    expect(store.state).toBe(before);
    expect(changes).toEqual([]);
  });

  it('stops delivering after unsubscribe, and one failing watcher does not stop the others or the store', () => {
    const store = new SwarmStore();
    const seen: number[] = [];
    store.watch(() => {
      throw new Error('watcher bug');
    });
    const stop = store.watch((change) => seen.push(change.index));
    expect(store.apply({ op: 'cluster.create', cluster: clusterRecord(), node: nodeRecord(M, { role: 'manager' }) }, 1)).toEqual({ ok: true });
    stop();
    expect(store.apply({ op: 'node.register', node: nodeRecord(W) }, 2)).toEqual({ ok: true });
    expect(seen).toEqual([1]);
    expect(Object.keys(store.state.nodes)).toHaveLength(2);
  });
});

describe('SwarmStore: snapshot and restore', () => {
  it('a snapshot restores to an equal state on another store, which tells its watchers', () => {
    const source = new SwarmStore();
    source.apply({ op: 'cluster.create', cluster: clusterRecord(), node: nodeRecord(M, { role: 'manager' }) }, 1);
    source.apply({ op: 'node.register', node: nodeRecord(W, { labels: { zone: 'a' } }) }, 2);
    source.apply({ op: 'node.remove', id: W }, 3);
    const target = new SwarmStore();
    const changes: StoreChange[] = [];
    target.watch((change) => changes.push(change));
    target.restore(source.snapshot(), 3);
    expect(target.state).toEqual(source.state);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.previous).toBe(EMPTY_STATE);
    expect(changes[0]?.state).toEqual(source.state);
    expect(changes[0]?.command).toBeUndefined();
    // What the snapshot carried still binds: the removed node stays removed.
    expect(target.apply({ op: 'node.register', node: nodeRecord(W) }, 4)).toEqual({ ok: false, reason: `node ${W} was removed from the swarm` });
  });

  it('an empty snapshot restores the empty state', () => {
    const store = new SwarmStore();
    store.apply({ op: 'cluster.create', cluster: clusterRecord(), node: nodeRecord(M, { role: 'manager' }) }, 1);
    store.restore(new Uint8Array(), 0);
    expect(store.state).toEqual(EMPTY_STATE);
  });

  it('commands survive their encoding unchanged', () => {
    const command: Command = { op: 'node.spec', id: W, at: AT, labelAdd: { 'com.example/zone': 'ä b' }, labelRm: ['x'] };
    expect(decodeCommand(encodeCommand(command))).toEqual(command);
  });
});

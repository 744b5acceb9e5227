// Docker's Version.Index for nodes: the store bumps a record's version with every change to it.
import { describe, expect, test } from 'vitest';
import { applyCommand, EMPTY_STATE, type NodeRecord, type SwarmState } from '../../../electron/swarm/store.js';

function record(id: string): NodeRecord {
  return {
    id,
    createdAt: '2026-11-29T00:00:00.000Z',
    updatedAt: '2026-11-29T00:00:00.000Z',
    spec: { role: 'worker', availability: 'active', labels: {} },
    role: 'worker',
    description: { hostname: id, platform: { os: 'linux', architecture: 'x86_64' }, resources: { cpus: 1, memoryBytes: 1 }, engineVersion: '' },
    status: { state: 'unknown', addr: '', message: '' },
    clusterAddr: '',
    certNotAfter: '',
  };
}

function apply(state: SwarmState, ...commands: Parameters<typeof applyCommand>[1][]): SwarmState {
  for (const command of commands) {
    const next = applyCommand(state, command);
    expect(next.result).toEqual({ ok: true });
    state = next.state;
  }
  return state;
}

describe('node versions', () => {
  test('a registered node starts at 1; each change to it bumps it; other nodes keep theirs', () => {
    let state = apply(EMPTY_STATE, { op: 'node.register', node: record('a') }, { op: 'node.register', node: record('b') });
    expect([state.nodes['a']?.version, state.nodes['b']?.version]).toEqual([1, 1]);
    state = apply(state, { op: 'node.spec', id: 'a', at: 'now', labelAdd: { disk: 'ssd' } }, { op: 'node.status', id: 'a', at: 'now', state: 'ready', message: '' });
    expect([state.nodes['a']?.version, state.nodes['b']?.version]).toEqual([3, 1]);
  });

  test('a record from a store written before versions starts counting from there', () => {
    const { version: _dropped, ...old } = { ...record('c'), version: undefined };
    const state = apply({ ...EMPTY_STATE, nodes: { c: old } }, { op: 'node.role', id: 'c', at: 'now', role: 'manager' });
    expect(state.nodes['c']?.version).toBe(1);
  });
});

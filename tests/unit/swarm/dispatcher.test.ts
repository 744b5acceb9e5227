// The dispatcher on an in-memory store: heartbeats turn into Ready, silence into Down after three
// periods, a leave into Down at once. Its clock is injected and its check timer is Vitest's fake
// setInterval, moved together by `advance`, so no test waits on the wall clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SkepError, skepError } from '../../../shared/errors.js';
import { Dispatcher, JOIN_COMPLETION_MS, MISSED_HEARTBEATS, type NodeReport } from '../../../electron/swarm/dispatcher/dispatcher.js';
import type { SwarmStore } from '../../../electron/swarm/state/store.js';
import { description, nodeId, nodeRecord, storeWith, type CountingProposer } from './fixtures.js';

const PERIOD = 1000;
const LEADER = nodeId('m1');
const W1 = nodeId('w1');
const W2 = nodeId('w2');

let clock: number;
let store: SwarmStore;
let proposer: CountingProposer;
let dispatcher: Dispatcher;
let errors: unknown[];

/** Moves the injected clock and the fake timers together, in steps, so each check sees its own time. */
async function advance(ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 10) {
    const step = Math.min(10, left);
    clock += step;
    await vi.advanceTimersByTimeAsync(step);
  }
}

function report(node: string, overrides: Partial<NodeReport> = {}): NodeReport {
  const record = nodeRecord(node);
  return { description: record.description, addr: record.status.addr, clusterAddr: record.clusterAddr, certNotAfter: record.certNotAfter, ...overrides };
}

function stateOf(id: string): { state: string; message: string } {
  const node = store.state.nodes[id];
  if (!node) throw new Error(`no node ${id}`);
  return { state: node.status.state, message: node.status.message };
}

async function refusalCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SkepError);
  return (error as SkepError).code;
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  clock = Date.parse('2026-11-29T21:00:00.000Z');
  ({ store, proposer } = await storeWith(nodeRecord(LEADER, { role: 'manager' }), [nodeRecord(W1), nodeRecord(W2)]));
  errors = [];
  dispatcher = new Dispatcher({ selfId: LEADER, state: () => store.state, proposer, heartbeatPeriodMs: PERIOD, now: () => clock, onError: (e) => errors.push(e) });
});

afterEach(() => {
  dispatcher.stop();
  vi.useRealTimers();
  expect(errors).toEqual([]);
});

describe('heartbeats', () => {
  it('mark a node Ready and record what it reports about itself', async () => {
    await store.apply({ op: 'node.status', id: W1, at: 'x', state: 'unknown', message: 'joining' }, 50);
    dispatcher.start();
    const fresh = report(W1, { description: description('w1-renamed'), addr: '10.0.0.7', clusterAddr: '10.0.0.7:4790', certNotAfter: '2027-05-01T00:00:00.000Z' });
    await dispatcher.heartbeat(W1, fresh);
    const node = store.state.nodes[W1];
    expect(node?.status).toEqual({ state: 'ready', addr: '10.0.0.7', message: '' });
    expect(node?.description).toEqual(description('w1-renamed'));
    expect(node?.clusterAddr).toBe('10.0.0.7:4790');
    expect(node?.certNotAfter).toBe('2027-05-01T00:00:00.000Z');
    expect(node?.updatedAt).toBe(new Date(clock).toISOString());
  });

  it('propose nothing when nothing changed', async () => {
    dispatcher.start();
    await dispatcher.heartbeat(W1, report(W1, { addr: '10.0.0.8' }));
    expect(proposer.proposed).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      await advance(PERIOD);
      await dispatcher.heartbeat(W1, report(W1, { addr: '10.0.0.8' }));
      await dispatcher.heartbeat(W2, report(W2));
    }
    expect(proposer.proposed).toHaveLength(1);
  });

  it('bring a Down node back to Ready', async () => {
    dispatcher.start();
    await dispatcher.leave(W1);
    expect(stateOf(W1).state).toBe('down');
    await dispatcher.heartbeat(W1, report(W1));
    expect(stateOf(W1)).toEqual({ state: 'ready', message: '' });
  });

  it('are refused for a node the swarm does not know, and when this manager does not lead', async () => {
    expect(await refusalCode(dispatcher.heartbeat(W1, report(W1)))).toBe('NO_LEADER');
    dispatcher.start();
    const stranger = nodeId('zz');
    const error = await dispatcher.heartbeat(stranger, report(stranger)).catch((e: unknown) => e);
    expect((error as SkepError).message).toBe(skepError('NODE_NOT_FOUND', stranger).message);
    dispatcher.stop();
    expect(await refusalCode(dispatcher.heartbeat(W1, report(W1)))).toBe('NO_LEADER');
    expect(proposer.proposed).toEqual([]);
  });
});

describe('missed heartbeats', () => {
  it(`turn a node Down with "heartbeat failure" after ${MISSED_HEARTBEATS} periods, not before; the leader never marks itself`, async () => {
    dispatcher.start();
    await advance(PERIOD);
    await dispatcher.heartbeat(W2, report(W2));
    await advance(MISSED_HEARTBEATS * PERIOD - PERIOD - 100);
    expect(stateOf(W1).state).toBe('ready');
    await advance(PERIOD);
    expect(stateOf(W1)).toEqual({ state: 'down', message: 'heartbeat failure' });
    // W2 spoke one period later than W1 was last seen, so it is not Down yet.
    expect(stateOf(W2).state).toBe('ready');
    await advance(PERIOD);
    expect(stateOf(W2)).toEqual({ state: 'down', message: 'heartbeat failure' });
    await advance(10 * PERIOD);
    expect(stateOf(LEADER).state).toBe('ready');
    // Down is proposed once per node, not on every check.
    expect(proposer.proposed.filter((c) => c.op === 'node.status')).toHaveLength(2);
  });

  it('a node that keeps heartbeating stays Ready', async () => {
    dispatcher.start();
    for (let i = 0; i < 10; i++) {
      await advance(PERIOD);
      await dispatcher.heartbeat(W1, report(W1));
    }
    expect(stateOf(W1).state).toBe('ready');
    expect(stateOf(W2).state).toBe('down');
  });

  it('a new leadership gives every node a full grace period, however long it has been silent', async () => {
    dispatcher.start();
    await dispatcher.heartbeat(W1, report(W1));
    dispatcher.stop();
    // Leadership moved away and came back much later; nobody heartbeated to this manager meanwhile.
    clock += 60 * PERIOD;
    dispatcher.start();
    await advance(MISSED_HEARTBEATS * PERIOD - 100);
    expect(stateOf(W1).state).toBe('ready');
    expect(stateOf(W2).state).toBe('ready');
    await advance(PERIOD);
    expect(stateOf(W1).state).toBe('down');
    expect(stateOf(W2).state).toBe('down');
  });

  it('a registered node that never sends its first heartbeat is not shown Down, and is removed once its join can no longer complete', async () => {
    dispatcher.start();
    await advance(5 * PERIOD);
    const ghost = nodeId('w3');
    const joined = nodeId('w4');
    // As the join service registers a node: no description, no cluster address yet.
    const registration = (id: string) => ({ ...nodeRecord(id, { hostname: '', clusterAddr: '' }), createdAt: new Date(clock).toISOString(), status: { state: 'unknown' as const, addr: '10.0.0.3', message: 'joining' } });
    await proposer.propose({ op: 'node.register', node: registration(ghost) });
    await proposer.propose({ op: 'node.register', node: registration(joined) });
    await dispatcher.heartbeat(joined, report(joined));
    await advance(MISSED_HEARTBEATS * PERIOD + PERIOD);
    expect(stateOf(ghost)).toEqual({ state: 'unknown', message: 'joining' });
    for (let left = JOIN_COMPLETION_MS; left > 0; left -= PERIOD) {
      await dispatcher.heartbeat(joined, report(joined));
      await advance(PERIOD);
    }
    expect(store.state.nodes[ghost]).toBeUndefined();
    expect(store.state.removed).toContain(ghost);
    expect(stateOf(joined).state).toBe('ready');
  });

  it('clears a ghost an earlier version left Down (never heard from, no cluster address)', async () => {
    const ghost = nodeId('w5');
    await proposer.propose({ op: 'node.register', node: { ...nodeRecord(ghost, { hostname: '', clusterAddr: '' }), status: { state: 'down', addr: '10.0.0.5', message: 'heartbeat failure' } } });
    await store.apply({ op: 'node.status', id: W1, at: 'x', state: 'down', message: 'heartbeat failure' }, 50);
    dispatcher.start();
    await advance(PERIOD);
    expect(store.state.nodes[ghost]).toBeUndefined();
    // A node that did join and then went Down stays, to be removed by a person.
    expect(stateOf(W1).state).toBe('down');
  });

  it('a stopped dispatcher marks nothing', async () => {
    dispatcher.start();
    dispatcher.stop();
    await advance(10 * PERIOD);
    expect(proposer.proposed).toEqual([]);
  });
});

describe('leave', () => {
  it('turns the node Down at once', async () => {
    dispatcher.start();
    await advance(100);
    await dispatcher.leave(W1);
    expect(stateOf(W1)).toEqual({ state: 'down', message: 'node left the swarm' });
    expect(stateOf(W2).state).toBe('ready');
  });

  it('is refused for a node the swarm does not know', async () => {
    dispatcher.start();
    expect(await refusalCode(dispatcher.leave(nodeId('zz')))).toBe('NODE_NOT_FOUND');
  });
});

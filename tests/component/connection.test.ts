// A dead node means "can't reach", never an endless spinner (issue 11, item 4): the connection
// store notices, tries again with backoff, and says when the node is back; the window says what to do.
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import ConnectionProblem from '../../renderer/src/components/ConnectionProblem.svelte';
import { reportingTransport } from '../../renderer/src/lib/api.js';
import { ConnectionStore, FIRST_ANSWER_MS, RETRY_DELAYS_MS } from '../../renderer/src/stores/connection.svelte.js';
import type { Reply } from '../../shared/api.js';

afterEach(cleanup);

describe('ConnectionStore', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('says "unreachable" when the first call never answers, instead of waiting forever', () => {
    const store = new ConnectionStore();
    store.start({ probe: () => new Promise(() => undefined), onRestored: () => undefined });
    expect(store.state).toBe('connecting');
    vi.advanceTimersByTime(FIRST_ANSWER_MS);
    expect(store.state).toBe('unreachable');
  });

  it('tries again with growing waits until the node answers, then says it is back once', async () => {
    const store = new ConnectionStore();
    let up = false;
    const probes: number[] = [];
    let restored = 0;
    store.start({
      probe: () => {
        probes.push(Date.now());
        return up ? Promise.resolve({}) : Promise.reject(new Error('DAEMON_UNREACHABLE'));
      },
      onRestored: () => (restored += 1),
    });
    store.answered();
    const lostAt = Date.now();
    store.lost();
    expect(store.state).toBe('unreachable');
    for (const delay of RETRY_DELAYS_MS.slice(0, 3)) await vi.advanceTimersByTimeAsync(delay);
    expect(probes.map((t) => t - lostAt)).toEqual([1000, 3000, 7000]);
    expect(store.state).toBe('unreachable');
    expect(restored).toBe(0);
    up = true;
    await vi.advanceTimersByTimeAsync(RETRY_DELAYS_MS[3]!);
    expect(store.state).toBe('connected');
    expect(restored).toBe(1);
    // Connected again: no more attempts.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(probes).toHaveLength(4);
  });

  it('"Try now" attempts at once', async () => {
    const store = new ConnectionStore();
    let restored = 0;
    store.start({ probe: () => Promise.resolve({}), onRestored: () => (restored += 1) });
    store.lost();
    store.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.state).toBe('connected');
    expect(restored).toBe(1);
  });
});

describe('reportingTransport', () => {
  it('reports DAEMON_UNREACHABLE as lost, and any other reply (errors of the node included) as an answer', async () => {
    const seen: string[] = [];
    const replies: Reply[] = [
      { ok: false, error: { code: 'DAEMON_UNREACHABLE', message: 'gone' } },
      { ok: false, error: { code: 'NO_LEADER', message: 'no leader' } },
      { ok: true, result: null },
    ];
    const transport = reportingTransport({ call: () => Promise.resolve(replies.shift()!), onEvent: () => () => undefined }, () => seen.push('answer'), () => seen.push('lost'));
    for (let i = 0; i < 3; i++) await transport.call('getSwarmStatus', []);
    expect(seen).toEqual(['lost', 'answer', 'answer']);
  });
});

describe('ConnectionProblem', () => {
  it("says the node can't be reached, what to do, when it tries again and how old the data is", async () => {
    let retried = 0;
    render(ConnectionProblem, { lastAnswerAt: Date.now() - 40_000, nextAttemptAt: Date.now() + 4000, browserMode: true, onretry: () => (retried += 1) });
    const problem = screen.getByTestId('connection-problem');
    expect(problem.getAttribute('role')).toBe('alert');
    expect(problem.textContent).toContain("Can't reach this machine's Skep node");
    expect(problem.textContent).toContain('skep daemon');
    expect(screen.getByTestId('connection-retry').textContent).toMatch(/Trying again in [34] s\./);
    expect(screen.getByTestId('connection-as-of').textContent).toContain('as of 40 s ago');
    await fireEvent.click(screen.getByTestId('connection-retry-now'));
    expect(retried).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import type { UnsafeKnobs } from '../../electron/raft/core/index.js';
import { findCatch } from './harness.js';
import { runSeed } from './schedule.js';

// Each deliberate bug must be caught within this many seeds of a mix designed to reach it.
const MAX_SEEDS = 500;
const RATE_SEEDS = 100;

const BUGS: readonly { name: string; unsafe: UnsafeKnobs; mix: string; size: number }[] = [
  { name: 'commit a previous-term entry by counting (Figure 8)', unsafe: { commitPreviousTermByCounting: true }, mix: 'figure8', size: 3 },
  { name: 'forget the vote across a restart', unsafe: { forgetVote: true }, mix: 'votes', size: 3 },
  { name: 'accept an append from a stale term', unsafe: { acceptStaleTermAppend: true }, mix: 'stale', size: 3 },
  { name: 'skip the log up-to-date check on votes', unsafe: { skipLogUpToDateCheck: true }, mix: 'crashes', size: 3 },
];

describe('the checks bite: deliberate bugs are caught', () => {
  for (const bug of BUGS) {
    it(bug.name, () => {
      const caught = findCatch(bug.unsafe, bug.mix, bug.size, MAX_SEEDS);
      expect(caught, `not caught within ${MAX_SEEDS} seeds of mix ${bug.mix}`).not.toBeNull();
      console.log(`${bug.name}: first caught at seed ${caught?.seed} by ${caught?.result.invariant}: ${caught?.result.error ?? ''}`);
      // How sharp the mix is, for the record: the share of seeds that catch it.
      let hits = 0;
      for (let seed = 1; seed <= RATE_SEEDS; seed++) if (!runSeed(seed, bug.size, bug.mix, { unsafe: bug.unsafe }).ok) hits++;
      console.log(`${bug.name}: caught on ${hits} of the first ${RATE_SEEDS} seeds of mix ${bug.mix}`);
    });
  }

  it('a host that serves reads from local state without ReadIndex', () => {
    let caughtAt = 0;
    for (let seed = 1; seed <= MAX_SEEDS && caughtAt === 0; seed++) {
      const r = runSeed(seed, 3, 'lossy', { localReads: true });
      if (!r.ok) {
        expect(r.invariant).toBe('linearizability');
        caughtAt = seed;
      }
    }
    expect(caughtAt).toBeGreaterThan(0);
    console.log(`local reads: caught at seed ${caughtAt} by linearizability`);
  });
});

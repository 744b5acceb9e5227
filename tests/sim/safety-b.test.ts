import { describe, expect, it } from 'vitest';
import { MAX_UNDECIDED_FRACTION, describeFailure, runRange } from './harness.js';

// Seeds cycle through every fault mix and through 3, 5 and 7 nodes (see schedule.ts).
describe('raft simulation: safety and linearizability (seeds 1001–2000)', () => {
  it('keeps every invariant on every seed', () => {
    const s = runRange(1001, 1000);
    console.log(`sim seeds 1001–2000: ${s.seeds} seeds, ${s.failures.length} failed, ${s.undecided} undecided, ${s.ops} ops, ${s.seconds.toFixed(1)}s`);
    expect(s.failures.map(describeFailure)).toEqual([]);
    expect(s.undecided / s.seeds).toBeLessThanOrEqual(MAX_UNDECIDED_FRACTION);
  });
});

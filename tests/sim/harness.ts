import type { UnsafeKnobs } from '../../electron/raft/core/index.js';
import { runSeed, scheduleFor } from './schedule.js';
import type { SimResult } from './simulation.js';

export interface RangeSummary {
  readonly seeds: number;
  readonly failures: readonly SimResult[];
  readonly undecided: number;
  readonly ops: number;
  readonly seconds: number;
}

/** Run seeds [first, first+count) on their scheduled size and mix. */
export function runRange(first: number, count: number): RangeSummary {
  const started = Date.now();
  const failures: SimResult[] = [];
  let undecided = 0;
  let ops = 0;
  for (let seed = first; seed < first + count; seed++) {
    const { size, mix } = scheduleFor(seed);
    const r = runSeed(seed, size, mix);
    ops += r.ops;
    if (r.linearizability === 'undecided') undecided++;
    if (!r.ok) failures.push(r);
  }
  return { seeds: count, failures, undecided, ops, seconds: (Date.now() - started) / 1000 };
}

export function describeFailure(r: SimResult): string {
  return `seed ${r.seed} (${r.size} nodes, ${r.mix}): ${r.invariant ?? '?'}: ${r.error ?? ''}\n  replay: npx tsx tests/sim/cli.ts --seed ${r.seed}`;
}

/** The first seed (of at most maxSeeds) on which the simulation catches a deliberate bug. */
export function findCatch(
  unsafe: UnsafeKnobs,
  mix: string,
  size: number,
  maxSeeds: number,
): { seed: number; result: SimResult; tried: number } | null {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const result = runSeed(seed, size, mix, { unsafe });
    if (!result.ok) return { seed, result, tried: seed };
  }
  return null;
}

/** Fail the suite when more than this share of histories could not be decided within the step budget. */
export const MAX_UNDECIDED_FRACTION = 0.01;

import type { UnsafeKnobs } from '../../electron/raft/core/index.js';
import { MIXES, SAFETY_MIXES } from './mixes.js';
import { type SimResult, Simulation } from './simulation.js';

const SIZES = [3, 5, 7] as const;

/** Seed → (cluster size, fault mix), so a seed number alone replays a run. */
export function scheduleFor(seed: number): { size: number; mix: string } {
  const mix = SAFETY_MIXES[seed % SAFETY_MIXES.length]!;
  const size = SIZES[Math.floor(seed / SAFETY_MIXES.length) % SIZES.length]!;
  return { size, mix };
}

export function runSeed(
  seed: number,
  size: number,
  mixName: string,
  opts: {
    unsafe?: UnsafeKnobs | undefined;
    trace?: (line: string) => void;
    localReads?: boolean;
    steps?: number | undefined;
    hostile?: boolean;
  } = {},
): SimResult {
  const named = MIXES[mixName];
  if (!named) throw new Error(`unknown mix ${mixName}`);
  const mix = opts.steps ? { ...named, steps: opts.steps } : named;
  return new Simulation({
    seed,
    size,
    mix,
    ...(opts.unsafe ? { unsafe: opts.unsafe } : {}),
    ...(opts.trace ? { trace: opts.trace } : {}),
    ...(opts.localReads ? { localReads: true } : {}),
    ...(opts.hostile === false ? { hostile: false } : {}),
  }).run();
}

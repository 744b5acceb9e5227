import { describe, expect, it } from 'vitest';
import { runSeed, scheduleFor } from './schedule.js';

describe('simulation replay', () => {
  it('the same seed replays exactly, trace line for trace line', () => {
    for (const seed of [7, 12, 29]) {
      const { size, mix } = scheduleFor(seed);
      const traces: string[][] = [[], []];
      for (const t of traces) runSeed(seed, size, mix, { trace: (line) => t.push(line) });
      expect(traces[0]!.length).toBeGreaterThan(100);
      expect(traces[1]).toEqual(traces[0]);
    }
  });
});

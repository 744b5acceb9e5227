import { describe, expect, it } from 'vitest';
import { MIXES } from './mixes.js';
import { scheduleFor } from './schedule.js';
import { Simulation } from './simulation.js';

// Every seed of the safety suites runs with the hostile non-member (tests/sim/hostile.ts) injecting
// messages; a message any node takes, or throws on, fails the seed there. These tests show what it
// reaches and that it changes nothing.

function run(seed: number, hostile: boolean, trace?: (line: string) => void): ReturnType<Simulation['run']> {
  const { size, mix } = scheduleFor(seed);
  return new Simulation({ seed, size, mix: MIXES[mix]!, hostile, ...(trace ? { trace } : {}) }).run();
}

describe('a hostile non-member in the simulation', () => {
  it('changes nothing: a run with it is the run without it, line for line, but for its own lines', () => {
    // Odd seeds: hosts vouch for the machines they know; even seeds: the core's own membership rule alone.
    for (const seed of [4, 9, 27]) {
      const withHostile: string[] = [];
      const without: string[] = [];
      const r = run(seed, true, (line) => withHostile.push(line));
      run(seed, false, (line) => without.push(line));
      expect(r.ok, `seed ${seed}: ${r.invariant ?? ''} ${r.error ?? ''}`).toBe(true);
      expect(r.hostileMessages).toBeGreaterThan(0);
      const own = withHostile.filter((l) => / hostile → /.test(l));
      expect(own.length).toBe(r.hostileMessages);
      expect(withHostile.filter((l) => !/ hostile → /.test(l))).toEqual(without);
    }
  });

  it('reaches every check of the door, and every seed keeps safety and linearizability with no node stopping', () => {
    const reasons: Record<string, number> = {};
    let messages = 0;
    for (let seed = 1; seed <= 44; seed++) {
      const r = run(seed, true);
      expect(r.ok, `seed ${seed}: ${r.invariant ?? ''} ${r.error ?? ''}`).toBe(true);
      messages += r.hostileMessages;
      for (const [k, v] of Object.entries(r.hostileDrops)) reasons[k] = (reasons[k] ?? 0) + v;
    }
    console.log(`hostile peer, seeds 1–44: ${messages} messages injected, all dropped: ${JSON.stringify(reasons)}`);
    for (const reason of [
      'malformed',
      'oversized',
      'local-type',
      'from-self',
      'wrong-recipient',
      'non-member',
      'vote-from-non-voter',
      'commit-past-log',
      'second-leader',
      'ack-past-log',
      'unsolicited-response',
      'bad-snapshot',
    ]) {
      expect(reasons[reason] ?? 0, reason).toBeGreaterThan(0);
    }
  });
});

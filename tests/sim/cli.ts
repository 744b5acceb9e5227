// Run the Raft simulation: `--seeds N [--first-seed S] [--size 3|5|7] [--mix name] [--steps N] [--unsafe knob]
// [--no-hostile]`, or `--seed S` (same options) to replay one run with a readable trace.
// `--no-hostile` leaves out the hostile non-member; every other choice of the run stays the same.
import { MIXES, SAFETY_MIXES } from './mixes.js';
import { runSeed, scheduleFor } from './schedule.js';
import type { UnsafeKnobs } from '../../electron/raft/core/index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const unsafeName = arg('unsafe');
const unsafe: UnsafeKnobs | undefined = unsafeName ? { [unsafeName]: true } : undefined;
const mixName = arg('mix');
if (mixName && !MIXES[mixName]) {
  console.error(`unknown mix ${mixName}; one of ${Object.keys(MIXES).join(', ')}`);
  process.exit(2);
}
const sizeArg = arg('size');
const stepsArg = arg('steps');
const steps = stepsArg ? Number(stepsArg) : undefined;
const hostile = !process.argv.includes('--no-hostile');

function plan(seed: number): { size: number; mix: string } {
  const s = scheduleFor(seed);
  return { size: sizeArg ? Number(sizeArg) : s.size, mix: mixName ?? s.mix };
}

const single = arg('seed');
if (single !== undefined) {
  const seed = Number(single);
  const p = plan(seed);
  console.log(`seed ${seed}: ${p.size} nodes, mix ${p.mix}${unsafeName ? `, unsafe ${unsafeName}` : ''}`);
  const r = runSeed(seed, p.size, p.mix, { unsafe, steps, hostile, trace: (line) => console.log(line) });
  console.log(JSON.stringify(r));
  process.exit(r.ok ? 0 : 1);
}

const count = Number(arg('seeds') ?? '100');
const first = Number(arg('first-seed') ?? '1');
const started = Date.now();
let failed = 0;
let undecided = 0;
let ops = 0;
for (let seed = first; seed < first + count; seed++) {
  const p = plan(seed);
  const r = runSeed(seed, p.size, p.mix, { unsafe, steps, hostile });
  ops += r.ops;
  if (r.linearizability === 'undecided') {
    undecided++;
    console.log(`UNDECIDED seed ${seed} (${p.size} nodes, ${p.mix}): linearizability not decided within the step budget (${r.ops} ops)`);
  }
  if (!r.ok) {
    failed++;
    console.log(`FAIL seed ${seed} (${p.size} nodes, ${p.mix}): ${r.invariant}: ${r.error ?? ''}`);
    console.log(`  replay: npx tsx tests/sim/cli.ts --seed ${seed}${sizeArg ? ` --size ${sizeArg}` : ''}${mixName ? ` --mix ${mixName}` : ''}${stepsArg ? ` --steps ${stepsArg}` : ''}${unsafeName ? ` --unsafe ${unsafeName}` : ''}`);
  }
}
const secs = (Date.now() - started) / 1000;
console.log(`${count} seeds, ${failed} failed, ${undecided} undecided linearizability checks, ${ops} client ops, ${secs.toFixed(1)}s (mixes: ${SAFETY_MIXES.join(', ')})`);
process.exit(failed > 0 ? 1 : 0);

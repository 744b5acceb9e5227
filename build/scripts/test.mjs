// `npm test`: every suite this machine can run, in groups that don't compete for the CPU in ways
// that would make timing-sensitive suites flaky: the pure suites together, then the real-process
// cluster suite (two files at a time: they mostly wait), then the timing-sensitive cluster files alone, then the real-Docker-Engine suite alone, then the browser end-to-end suite alone. Prints one total at the end.
// Extra arguments go to every vitest run (e.g. `npm test -- -t quorum`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const groups = [
  ['unit', 'component', 'sim'],
  ['cluster'],
  ['cluster-timing'],
  ['engine'],
  ['lab'],
  ['e2e'],
];
const extra = process.argv.slice(2);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'skep-test-summary-'));
const total = { passed: 0, failed: 0, skipped: 0 };
let exitCode = 0;

for (const [i, projects] of groups.entries()) {
  const summaryFile = path.join(scratch, `group-${i}.json`);
  const args = [vitest, 'run', ...projects.flatMap((p) => ['--project', p]), '--passWithNoTests', ...extra];
  console.log(`\n▶ vitest ${projects.join(', ')}`);
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, SKEP_SUMMARY_FILE: summaryFile } });
  if (run.status !== 0) exitCode = run.status ?? 1;
  try {
    const counts = JSON.parse(readFileSync(summaryFile, 'utf8'));
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  } catch {
    // The run died before reporting; its non-zero status already fails the whole.
    total.failed += 1;
    exitCode ||= 1;
  }
}
rmSync(scratch, { recursive: true, force: true });
console.log(`\nTotal: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(exitCode);

// Prints one closing line, "N passed, N failed, N skipped", after Vitest's own summary, so a reader
// (or CI) that looks only at the last line sees the count. With SKEP_SUMMARY_FILE set, it also
// writes the counts there, for build/scripts/test.mjs to add up across its runs.
import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      const tests = [...module.children.allTests()];
      for (const test of tests) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
      // A file that failed to load has no tests, and must not pass silently.
      if (module.state() === 'failed' && tests.length === 0) failed += 1;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    const file = process.env['SKEP_SUMMARY_FILE'];
    if (file) writeFileSync(file, JSON.stringify({ passed, failed, skipped }));
  }
}

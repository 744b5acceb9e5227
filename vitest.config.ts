import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// One runner, one project per suite, so `vitest run --project sim` runs one suite.
export default defineConfig({
  test: {
    reporters: ['default', './tests/support/summary-reporter.ts'],
    projects: [
      {
        test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        test: { name: 'sim', include: ['tests/sim/**/*.test.ts'], environment: 'node', testTimeout: 300_000 },
      },
      {
        test: { name: 'cluster', include: ['tests/cluster/**/*.test.ts'], environment: 'node', testTimeout: 120_000, fileParallelism: false },
      },
      {
        // One real Docker Engine for the whole suite (global-setup.ts), so files run one at a time.
        test: { name: 'engine', include: ['tests/engine/**/*.test.ts'], environment: 'node', globalSetup: ['tests/engine/global-setup.ts'], testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false },
      },
      {
        plugins: [svelte({ configFile: 'renderer/svelte.config.js' })],
        resolve: { conditions: ['browser'] },
        test: { name: 'component', include: ['tests/component/**/*.test.ts'], environment: 'jsdom' },
      },
      {
        test: { name: 'lab', include: ['tests/lab/**/*.test.ts'], environment: 'node', globalSetup: ['tests/lab/global-setup.ts'], testTimeout: 180_000, hookTimeout: 180_000, fileParallelism: false },
      },
      {
        test: { name: 'e2e', include: ['tests/e2e/**/*.test.ts'], environment: 'node', testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false },
      },
    ],
  },
});

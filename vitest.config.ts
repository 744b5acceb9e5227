import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// One runner, one project per suite, so `vitest run --project sim` runs one suite.
/** Cluster files whose outcome depends on timing (failover, heartbeat periods, floods, a full disk). */
const CLUSTER_TIMING = ['tests/cluster/failover.test.ts', 'tests/cluster/floods.test.ts', 'tests/cluster/full-disk.test.ts', 'tests/cluster/heartbeat-period.test.ts'];

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
        // Real daemons on loopback spend most of their time waiting (elections, heartbeats), so two
        // files run side by side; each file has its own 127.0.X subnet. The files that time
        // failures or flood a daemon run alone, in cluster-timing.
        test: { name: 'cluster', include: ['tests/cluster/**/*.test.ts'], exclude: CLUSTER_TIMING, environment: 'node', testTimeout: 120_000, fileParallelism: true, maxWorkers: 2 },
      },
      {
        test: { name: 'cluster-timing', include: CLUSTER_TIMING, environment: 'node', testTimeout: 120_000, fileParallelism: false },
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

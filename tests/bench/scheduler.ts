// Scheduler and orchestrator micro-benchmarks: one pure pass over plain data, timed in-process.
// Numbers are printed, never asserted.
import { orchestrate } from '../../electron/swarm/orchestrator/index.js';
import { schedule } from '../../electron/swarm/scheduler/index.js';
import { T0, node, service, spec, task } from '../support/swarm-services.js';
import { percentile } from './raft.js';

export interface SchedulerBenchOptions {
  readonly print: (line: string) => void;
  readonly quick: boolean;
}

function timed(runs: number, fn: () => void): { p50: number; min: number } {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), min: samples[0]! };
}

export async function runSchedulerBench(options: SchedulerBenchOptions): Promise<unknown> {
  const runs = options.quick ? 5 : 30;
  const results: Array<{ tasks: number; nodes: number; scheduleMs: number; orchestrateMs: number }> = [];
  for (const nodeCount of [3, 50]) {
    for (const taskCount of [100, 1000]) {
      const nodes = Array.from({ length: nodeCount }, (_, i) => node(`node${String(i).padStart(3, '0')}`, { labels: { zone: `z${i % 3}` } }));
      const svc = service('web', spec({ mode: { kind: 'replicated', replicas: taskCount }, taskTemplate: { container: { image: 'busybox' }, placement: { preferences: [{ spread: 'node.labels.zone' }] } } }));
      // A neighbour service already running, so the spread has something to balance against.
      const other = service('db', spec({ name: 'db', mode: { kind: 'replicated', replicas: nodeCount * 2 } }));
      const busy = Array.from({ length: nodeCount * 2 }, (_, i) => task(other, { id: `db${i}`, slot: i + 1, nodeId: nodes[i % nodeCount]!.id, status: { state: 'running', timestamp: new Date(T0).toISOString(), message: 'started', err: '' } }));
      const pending = Array.from({ length: taskCount }, (_, i) => task(svc, { id: `web${String(i).padStart(5, '0')}`, slot: i + 1 }));
      let assigned = 0;
      const s = timed(runs, () => {
        assigned = schedule({ nodes, tasks: [...busy, ...pending], now: T0 }).assignments.length;
      });
      let created = 0;
      let n = 0;
      const o = timed(runs, () => {
        created = orchestrate({ services: [svc, other], tasks: busy, nodes }, { now: T0, newId: () => `t${++n}` }).changes.length;
      });
      options.print(
        `scheduler: ${taskCount} tasks over ${nodeCount} nodes — schedule p50 ${s.p50.toFixed(2)} ms (min ${s.min.toFixed(2)}, ${assigned} assigned); orchestrate ${created} changes p50 ${o.p50.toFixed(2)} ms`,
      );
      results.push({ tasks: taskCount, nodes: nodeCount, scheduleMs: s.p50, orchestrateMs: o.p50 });
    }
  }
  return results;
}

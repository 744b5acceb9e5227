// Seeded property checks: whatever sequence of scaling, node failures, drains, updates and restarts
// happens, once things settle the swarm runs exactly what the services ask for.
import { describe, expect, it } from 'vitest';
import { isTaskTerminal, taskStateRank } from '../../../shared/services.js';
import { SimSwarm, node, seeded, spec } from '../../support/swarm-services.js';

function checkConverged(sim: SimSwarm, replicas: number): void {
  const running = sim.running('web');
  expect(running).toHaveLength(replicas);
  // One running task per slot (a scale-down may leave gaps: Swarm removes by balance, not by number).
  expect(new Set(running.map((t) => t.slot)).size).toBe(replicas);
  // Only on nodes that may run tasks.
  for (const t of running) {
    const n = sim.nodes.get(t.nodeId)!;
    expect(n.state).toBe('ready');
    expect(n.availability).not.toBe('drain');
  }
  // Nothing else is wanted, and history stays within Swarm's limit per slot.
  const wanted = sim.serviceTasks('web').filter((t) => taskStateRank(t.desiredState) <= taskStateRank('running'));
  expect(wanted).toHaveLength(replicas);
  const perSlot = new Map<number, number>();
  for (const t of sim.serviceTasks('web')) perSlot.set(t.slot, (perSlot.get(t.slot) ?? 0) + 1);
  for (const count of perSlot.values()) expect(count).toBeLessThanOrEqual(6);
  // The global service runs once on every node that is ready and not drained.
  const eligible = [...sim.nodes.values()].filter((n) => n.state === 'ready' && n.availability !== 'drain').map((n) => n.id).sort();
  expect(sim.running('agent').map((t) => t.nodeId).sort()).toEqual(eligible);
}

describe('convergence under random events (seeded)', () => {
  it.each(Array.from({ length: 30 }, (_, i) => i + 1))('seed %i', (seed) => {
    const rnd = seeded(seed);
    const sim = new SimSwarm({ failingImages: new Map([['busybox:crash', 1]]) });
    for (const id of ['n1', 'n2', 'n3', 'n4']) sim.addNode(node(id));
    let replicas = 1 + Math.floor(rnd() * 10);
    let web = spec({ mode: { kind: 'replicated', replicas }, updateConfig: { parallelism: 1 + Math.floor(rnd() * 3), order: rnd() < 0.5 ? 'start-first' : 'stop-first', monitorMs: 1000 } });
    sim.createService('web', web);
    sim.createService('agent', spec({ name: 'agent', mode: { kind: 'global' } }));
    const events: string[] = [];
    for (let round = 0; round < 8; round++) {
      const r = rnd();
      const target = `n${1 + Math.floor(rnd() * 4)}`;
      if (r < 0.25) {
        replicas = Math.floor(rnd() * 12);
        web = { ...web, mode: { kind: 'replicated', replicas } };
        sim.updateService('web', web);
        events.push(`scale ${replicas}`);
      } else if (r < 0.4) {
        sim.setNode(target, { state: sim.nodes.get(target)!.state === 'ready' ? 'down' : 'ready' });
        events.push(`toggle ${target} state`);
      } else if (r < 0.55) {
        sim.setNode(target, { availability: sim.nodes.get(target)!.availability === 'drain' ? 'active' : 'drain' });
        events.push(`toggle ${target} drain`);
      } else if (r < 0.75) {
        web = { ...web, taskTemplate: { ...web.taskTemplate, container: { ...web.taskTemplate.container, env: [`ROUND=${round}`] } } };
        sim.updateService('web', web);
        events.push('update');
      } else {
        // A container dies: the restart policy puts a new task in its slot.
        const victim = sim.running('web')[Math.floor(rnd() * Math.max(1, sim.running('web').length))];
        if (victim) sim.report(victim.id, { ...victim.status, state: 'failed', timestamp: new Date(sim.now).toISOString(), err: 'task: non-zero exit (137)' });
        events.push('kill');
      }
      for (let i = 0; i < 1 + Math.floor(rnd() * 6); i++) sim.step();
    }
    // At least one node must be able to run tasks for the check to mean something.
    if (![...sim.nodes.values()].some((n) => n.state === 'ready' && n.availability !== 'drain')) sim.setNode('n1', { state: 'ready', availability: 'active' });
    try {
      sim.runUntil(() => {
        const s = sim.services.get('web')!;
        // A kill inside the monitor period pauses an update, as in Swarm: paused is settled too.
        const settled = s.updateStatus === undefined || s.updateStatus.state === 'completed' || s.updateStatus.state === 'paused';
        // Tasks on a node that is down stay as they were last reported: nobody can stop them.
        const onLiveNodes = sim.serviceTasks('web').filter((t) => sim.nodes.get(t.nodeId)?.state !== 'down');
        return settled && sim.running('web').length === replicas && onLiveNodes.every((t) => isTaskTerminal(t.status.state) || t.desiredState === 'running' || t.status.state === 'new' || t.status.state === 'pending');
      }, 300);
      for (let i = 0; i < 15; i++) sim.step();
      checkConverged(sim, replicas);
    } catch (err) {
      throw new Error(`seed ${seed} after [${events.join(', ')}]: ${(err as Error).message}`);
    }
  });
});

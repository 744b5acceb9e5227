// The orchestrator and the scheduler in a loop over an in-memory swarm whose agents report task states
// step by step: the loop must converge on what each service asks for, as Swarm does.
import { describe, expect, it } from 'vitest';
import { SimSwarm, node, spec } from '../../support/swarm-services.js';

function threeNodes(sim: SimSwarm): void {
  for (const id of ['n1', 'n2', 'n3']) sim.addNode(node(id));
}

function perNode(sim: SimSwarm, serviceId: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of sim.running(serviceId)) counts[t.nodeId] = (counts[t.nodeId] ?? 0) + 1;
  return counts;
}

describe('a simulated swarm converges', () => {
  it('runs 30 replicas on 3 nodes, 10 on each, in few proposals', () => {
    const sim = new SimSwarm();
    threeNodes(sim);
    sim.createService('web', spec({ mode: { kind: 'replicated', replicas: 30 } }));
    sim.orchestrate();
    sim.schedule();
    // One orchestrator proposal creates all 30 tasks and one scheduler proposal places all 30.
    expect(sim.serviceTasks('web')).toHaveLength(30);
    expect(sim.serviceTasks('web').every((t) => t.status.state === 'assigned')).toBe(true);
    expect(sim.proposals).toBe(2);
    sim.runUntil(() => sim.running('web').length === 30);
    expect(perNode(sim, 'web')).toEqual({ n1: 10, n2: 10, n3: 10 });
    expect(new Set(sim.running('web').map((t) => t.slot)).size).toBe(30);
  });

  it('scales 30 → 100 and back to 10, removing the extra copies evenly', () => {
    const sim = new SimSwarm();
    threeNodes(sim);
    sim.createService('web', spec({ mode: { kind: 'replicated', replicas: 30 } }));
    sim.runUntil(() => sim.running('web').length === 30);
    sim.updateService('web', { ...sim.services.get('web')!.spec, mode: { kind: 'replicated', replicas: 100 } });
    sim.runUntil(() => sim.running('web').length === 100);
    const counts = Object.values(perNode(sim, 'web'));
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // A change of replicas alone is not a rolling update: no task was replaced.
    expect(sim.serviceTasks('web').filter((t) => t.origin === 'update')).toHaveLength(0);

    const slotsByNode = new Map<string, number[]>();
    for (const t of sim.running('web')) slotsByNode.set(t.nodeId, [...(slotsByNode.get(t.nodeId) ?? []), t.slot].sort((a, b) => a - b));
    sim.updateService('web', { ...sim.services.get('web')!.spec, mode: { kind: 'replicated', replicas: 10 } });
    sim.runUntil(() => sim.serviceTasks('web').length === 10 && sim.running('web').length === 10);
    expect(Object.values(perNode(sim, 'web')).sort()).toEqual([3, 3, 4]);
    // Each node keeps its lowest-numbered slots (Swarm removes the highest first among equals).
    for (const [nodeId, slots] of slotsByNode) {
      const kept = sim.running('web').filter((t) => t.nodeId === nodeId).map((t) => t.slot).sort((a, b) => a - b);
      expect(kept).toEqual(slots.slice(0, kept.length));
    }
  });

  it('rolls 30 tasks to a new image with parallelism 5, never more than 5 slots down at once', () => {
    const sim = new SimSwarm();
    threeNodes(sim);
    const base = spec({ mode: { kind: 'replicated', replicas: 30 }, updateConfig: { parallelism: 5, monitorMs: 2000 } });
    sim.createService('web', base);
    sim.runUntil(() => sim.running('web').length === 30);
    sim.updateService('web', { ...base, taskTemplate: { ...base.taskTemplate, container: { ...base.taskTemplate.container, image: 'busybox:2' } } });
    let fewestRunning = 30;
    sim.runUntil(
      () => sim.services.get('web')!.updateStatus?.state === 'completed',
      500,
      1000,
      () => {
        fewestRunning = Math.min(fewestRunning, sim.running('web').length);
      },
    );
    expect(fewestRunning).toBeGreaterThanOrEqual(25);
    const live = sim.running('web');
    expect(live).toHaveLength(30);
    expect(live.every((t) => t.spec.container.image === 'busybox:2')).toBe(true);
    const s = sim.services.get('web')!;
    expect(s.updateStatus).toMatchObject({ state: 'completed', message: 'update completed' });
    // History: each slot keeps its old task, shut down.
    expect(sim.serviceTasks('web').filter((t) => t.status.state === 'shutdown')).toHaveLength(30);
  });

  it('rolls start-first: a slot never goes without a running task', () => {
    const sim = new SimSwarm();
    threeNodes(sim);
    const base = spec({ mode: { kind: 'replicated', replicas: 6 }, updateConfig: { parallelism: 2, order: 'start-first', monitorMs: 1000 } });
    sim.createService('web', base);
    sim.runUntil(() => sim.running('web').length === 6);
    sim.updateService('web', { ...base, taskTemplate: { ...base.taskTemplate, container: { ...base.taskTemplate.container, image: 'busybox:2' } } });
    let mostRunning = 0;
    sim.runUntil(
      () => sim.services.get('web')!.updateStatus?.state === 'completed',
      200,
      1000,
      () => {
        const runningSlots = new Set(sim.serviceTasks('web').filter((t) => t.status.state === 'running').map((t) => t.slot));
        expect(runningSlots.size).toBe(6);
        mostRunning = Math.max(mostRunning, sim.serviceTasks('web').filter((t) => t.status.state === 'running').length);
      },
    );
    // Up to `parallelism` slots ran an old and a new task side by side.
    expect(mostRunning).toBeGreaterThan(6);
    expect(mostRunning).toBeLessThanOrEqual(8);
    expect(sim.running('web').every((t) => t.spec.container.image === 'busybox:2')).toBe(true);
  });

  it('updates a global service node by node', () => {
    const sim = new SimSwarm();
    threeNodes(sim);
    const base = spec({ name: 'agent', mode: { kind: 'global' }, updateConfig: { monitorMs: 1000 } });
    sim.createService('agent', base);
    sim.runUntil(() => sim.running('agent').length === 3);
    sim.updateService('agent', { ...base, taskTemplate: { ...base.taskTemplate, container: { ...base.taskTemplate.container, env: ['MODE=2'] } } });
    sim.runUntil(() => sim.services.get('agent')!.updateStatus?.state === 'completed');
    expect(sim.running('agent').map((t) => [t.nodeId, t.spec.container.env.join()]).sort()).toEqual([
      ['n1', 'MODE=2'],
      ['n2', 'MODE=2'],
      ['n3', 'MODE=2'],
    ]);
    expect(sim.serviceTasks('agent').filter((t) => t.origin === 'update')).toHaveLength(3);
  });

  it('pauses an update whose new tasks fail, then rolls back on request to the previous spec', () => {
    const sim = new SimSwarm({ failingImages: new Map([['busybox:broken', 1]]) });
    threeNodes(sim);
    const base = spec({ mode: { kind: 'replicated', replicas: 6 }, updateConfig: { parallelism: 2, monitorMs: 5000 } });
    sim.createService('web', base);
    sim.runUntil(() => sim.running('web').length === 6);
    sim.updateService('web', { ...base, taskTemplate: { ...base.taskTemplate, container: { ...base.taskTemplate.container, image: 'busybox:broken' } } });
    sim.runUntil(() => sim.services.get('web')!.updateStatus?.state === 'paused');
    const paused = sim.services.get('web')!.updateStatus!;
    const failed = sim.serviceTasks('web').find((t) => t.status.state === 'failed')!;
    expect(paused.message).toMatch(/^update paused due to failure or early termination of task task\d+$/);
    expect(sim.tasks.get(paused.message.split(' ').pop()!)!.status.state).toBe('failed');
    expect(failed.status.err).toBe('task: non-zero exit (1)');
    // Paused: the slots not reached yet keep the old image, and stay so while the update is paused.
    const oldImage = (): number => sim.running('web').filter((t) => t.spec.container.image === 'busybox:latest').length;
    const untouched = oldImage();
    expect(untouched).toBeGreaterThanOrEqual(2);
    expect(untouched).toBeLessThan(6);
    for (let i = 0; i < 20; i++) sim.step();
    expect(oldImage()).toBe(untouched);
    expect(sim.services.get('web')!.updateStatus!.state).toBe('paused');

    sim.rollbackService('web');
    sim.runUntil(() => sim.services.get('web')!.updateStatus?.state === 'rollback_completed' && sim.running('web').length === 6);
    expect(sim.running('web').every((t) => t.spec.container.image === 'busybox:latest')).toBe(true);
    expect(sim.services.get('web')!.updateStatus!.message).toBe('rollback completed');
  });

  it('rolls back by itself with --update-failure-action rollback', () => {
    const sim = new SimSwarm({ failingImages: new Map([['busybox:broken', 2]]) });
    threeNodes(sim);
    const base = spec({ mode: { kind: 'replicated', replicas: 4 }, updateConfig: { parallelism: 1, failureAction: 'rollback' } });
    sim.createService('web', base);
    sim.runUntil(() => sim.running('web').length === 4);
    sim.updateService('web', { ...base, taskTemplate: { ...base.taskTemplate, container: { ...base.taskTemplate.container, image: 'busybox:broken' } } });
    sim.runUntil(() => sim.services.get('web')!.updateStatus?.state === 'rollback_started');
    expect(sim.services.get('web')!.updateStatus!.message).toMatch(/^update rolled back due to failure or early termination of task task\d+$/);
    expect(sim.services.get('web')!.spec.taskTemplate.container.image).toBe('busybox:latest');
    sim.runUntil(() => sim.services.get('web')!.updateStatus?.state === 'rollback_completed' && sim.running('web').length === 4);
    expect(sim.running('web').every((t) => t.spec.container.image === 'busybox:latest')).toBe(true);
  });

  it('moves the tasks of a node that goes down, and keeps them where they landed when it comes back', () => {
    const sim = new SimSwarm();
    threeNodes(sim);
    sim.createService('web', spec({ mode: { kind: 'replicated', replicas: 9 } }));
    sim.runUntil(() => sim.running('web').length === 9);
    sim.setNode('n3', { state: 'down' });
    sim.runUntil(() => sim.running('web').filter((t) => t.nodeId !== 'n3').length === 9, 100);
    expect(perNode(sim, 'web')).toMatchObject({ n1: 5, n2: 4 });
    sim.setNode('n3', { state: 'ready' });
    for (let i = 0; i < 10; i++) sim.step();
    // No automatic rebalance, as in Swarm.
    expect(sim.running('web').filter((t) => t.nodeId === 'n3')).toHaveLength(0);
  });

  it('keeps one global task per eligible node as nodes join, drain and leave', () => {
    const sim = new SimSwarm();
    threeNodes(sim);
    sim.createService('agent', spec({ name: 'agent', mode: { kind: 'global' } }));
    sim.runUntil(() => sim.running('agent').length === 3);
    sim.addNode(node('n4'));
    sim.runUntil(() => sim.running('agent').length === 4);
    sim.setNode('n2', { availability: 'drain' });
    sim.runUntil(() => sim.running('agent').length === 3);
    expect(sim.running('agent').map((t) => t.nodeId).sort()).toEqual(['n1', 'n3', 'n4']);
    sim.nodes.delete('n4');
    sim.runUntil(() => sim.serviceTasks('agent').filter((t) => t.nodeId === 'n4' && t.desiredState === 'running').length === 0);
    expect(sim.running('agent').map((t) => t.nodeId).sort()).toEqual(['n1', 'n3']);
  });
});

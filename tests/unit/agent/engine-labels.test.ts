// Engine labels: what the agent reads from its Docker Engine's /info (`dockerd --label k=v`), bounded,
// carried in the node description the heartbeat sends, and matched by `engine.labels.*` constraints.
import { describe, expect, it } from 'vitest';
import { compileConstraints, nodeMatchesConstraints, placementNodeFromSwarmNode } from '../../../shared/constraints.js';
import { engineLabelsFrom, MAX_ENGINE_LABELS } from '../../../electron/agent/exec/docker/engine.js';
import { NodeDescription } from '../../../electron/protocol/index.js';

describe('engine labels', () => {
  it('are read from the engine\'s "key=value" strings, bounded', () => {
    expect(engineLabelsFrom(['storage=ssd', 'zone=attic=2', 'gpu', '=nokey'])).toEqual({ storage: 'ssd', zone: 'attic=2', gpu: '' });
    expect(engineLabelsFrom(null)).toEqual({});
    const many = engineLabelsFrom(Array.from({ length: 200 }, (_, i) => `k${i}=v`));
    expect(Object.keys(many)).toHaveLength(MAX_ENGINE_LABELS);
    expect(engineLabelsFrom([`k=${'x'.repeat(5000)}`])['k']).toHaveLength(1024);
  });

  it('travel in the heartbeat\'s node description, which refuses more than the bound', () => {
    const description = { hostname: 'pi-1', platform: { os: 'linux', architecture: 'aarch64' }, resources: { cpus: 4, memoryBytes: 1 }, engineVersion: '26.1.5' };
    expect(NodeDescription.safeParse({ ...description, engineLabels: { storage: 'ssd' } }).success).toBe(true);
    expect(NodeDescription.safeParse(description).success).toBe(true);
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    expect(NodeDescription.safeParse({ ...description, engineLabels: tooMany }).success).toBe(false);
  });

  it('are what engine.labels.* constraints match', () => {
    const node = (engineLabels?: Record<string, string>) =>
      placementNodeFromSwarmNode({
        id: 'n1',
        role: 'worker',
        spec: { role: 'worker', availability: 'active', labels: {} },
        status: { state: 'ready', addr: '10.46.0.2', message: '' },
        description: { hostname: 'pi-1', platform: { os: 'linux', architecture: 'aarch64' }, resources: { cpus: 4, memoryBytes: 1 }, engineVersion: '26', ...(engineLabels ? { engineLabels } : {}) },
      });
    const ssd = compileConstraints(['engine.labels.storage==SSD'])!;
    expect(nodeMatchesConstraints(ssd, node({ storage: 'ssd' }))).toBe(true);
    expect(nodeMatchesConstraints(ssd, node({ storage: 'hdd' }))).toBe(false);
    expect(nodeMatchesConstraints(ssd, node())).toBe(false);
    expect(nodeMatchesConstraints(compileConstraints(['engine.labels.storage!=ssd'])!, node())).toBe(true);
  });
});

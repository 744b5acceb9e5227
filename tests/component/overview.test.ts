import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import HealthBanner from '../../renderer/src/components/HealthBanner.svelte';
import MachineFacts from '../../renderer/src/components/MachineFacts.svelte';
import { swarmHealth } from '../../shared/health.js';
import type { SystemInfo } from '../../shared/types.js';
import { systemInfo } from '../support/system-info.js';
import { status } from './fixtures.js';

afterEach(cleanup);

const info: SystemInfo = systemInfo({
  hostname: 'nas',
  memoryBytes: 4 * 1024 ** 3,
  engine: { available: true, endpoint: 'unix:///var/run/docker.sock', version: '20.10.24', apiVersion: '1.41', os: 'linux', arch: 'arm64' },
});

describe('MachineFacts', () => {
  it('shows the facts with units a person reads', () => {
    render(MachineFacts, { info });
    expect(screen.getByTestId('fact-hostname').textContent).toBe('nas');
    expect(screen.getByTestId('fact-memory').textContent).toBe('4.0 GiB');
    expect(screen.getByTestId('fact-engine').textContent).toContain('Docker Engine 20.10.24 (API 1.41)');
  });

  it('tells by text, not only colour, that no engine answers', () => {
    render(MachineFacts, { info: { ...info, engine: { available: false, endpoint: 'unix:///x', reason: 'no Docker Engine found (the socket does not exist)' } } });
    const engine = screen.getByTestId('fact-engine');
    expect(engine.textContent).toContain('✕');
    expect(engine.textContent).toContain('no Docker Engine found (the socket does not exist)');
  });
});

describe('HealthBanner', () => {
  it('says it is still checking, then that the machine is not in a swarm', async () => {
    const { rerender } = render(HealthBanner, { health: swarmHealth(undefined), loading: true });
    expect(screen.getByText('Checking swarm membership…')).toBeTruthy();
    await rerender({ health: swarmHealth({ state: 'inactive' }), loading: false });
    expect(screen.getByTestId('health-sentence').textContent).toBe('Not in a swarm');
    expect(screen.getByTestId('health-banner').dataset['state']).toBe('offline');
  });

  const cases = [
    { s: status(), sentence: 'Healthy — 3 managers, can lose 1', state: 'healthy', shape: '●' },
    // One rule for no spare manager (shared/quorum.ts): 1 and 2 managers read the same way.
    { s: status({ managers: 1, reachableManagers: 1 }), sentence: 'Healthy — 1 manager, can lose none', state: 'healthy', shape: '●' },
    { s: status({ managers: 2, reachableManagers: 2 }), sentence: 'Healthy — 2 managers, can lose none', state: 'healthy', shape: '●' },
    { s: status({ reachableManagers: 2 }), sentence: 'Quorum at risk — 2 of 3 managers reachable, can lose none', state: 'degraded', shape: '▲' },
    { s: status({ readyNodes: 3 }), sentence: 'Degraded — 1 of 4 nodes down; 3 managers, can lose 1', state: 'degraded', shape: '◐' },
    { s: status({ reachableManagers: 1, leaderId: null }), sentence: "Quorum lost — 1 of 3 managers reachable; the swarm can't change", state: 'critical', shape: '✕' },
  ] as const;
  for (const c of cases) {
    it(`says "${c.sentence}" with the shape ${c.shape}, not colour alone`, () => {
      render(HealthBanner, { health: swarmHealth(c.s) });
      expect(screen.getByTestId('health-sentence').textContent).toBe(c.sentence);
      const banner = screen.getByTestId('health-banner');
      expect(banner.dataset['state']).toBe(c.state);
      expect(banner.querySelector('.shape')?.textContent).toBe(c.shape);
    });
  }

  it('offers recovery only when quorum is lost', async () => {
    let asked = 0;
    const { rerender } = render(HealthBanner, { health: swarmHealth(status()), onrecover: () => (asked += 1) });
    expect(screen.queryByTestId('recover-quorum')).toBeNull();
    await rerender({ health: swarmHealth(status({ reachableManagers: 1, leaderId: null })), onrecover: () => (asked += 1) });
    screen.getByTestId('recover-quorum').click();
    expect(asked).toBe(1);
  });
});

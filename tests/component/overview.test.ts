import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import MachineFacts from '../../renderer/src/components/MachineFacts.svelte';
import SwarmBanner from '../../renderer/src/components/SwarmBanner.svelte';
import type { SystemInfo } from '../../shared/types.js';

afterEach(cleanup);

const info: SystemInfo = {
  hostname: 'nas',
  os: { platform: 'linux', name: 'Debian GNU/Linux 12 (bookworm)', version: '12', kernel: '6.1.0' },
  architecture: 'aarch64',
  cpuCount: 4,
  memoryBytes: 4 * 1024 ** 3,
  dataDir: '/var/lib/skep',
  engine: { available: true, endpoint: 'unix:///var/run/docker.sock', version: '20.10.24', apiVersion: '1.41', os: 'linux', arch: 'arm64' },
  skepVersion: '0.1.0',
  nodeVersion: '18.19.0',
};

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

describe('SwarmBanner', () => {
  it('says when the machine is not in a swarm, and while it is still checking', async () => {
    const { rerender } = render(SwarmBanner, { swarm: undefined });
    expect(screen.getByText('Checking swarm membership…')).toBeTruthy();
    await rerender({ swarm: { state: 'inactive' } });
    expect(screen.getByTestId('swarm-state').textContent).toBe('Not part of a swarm yet');
  });

  it('shows the not-in-a-swarm state', () => {
    render(SwarmBanner, { swarm: { state: 'inactive' } });
    expect(screen.getByTestId('swarm-state').textContent).toBe('Not part of a swarm yet');
  });
});

// One SystemInfo for tests: a Raspberry Pi-like machine, with whatever a test needs changed.
import type { SystemInfo } from '../../shared/types.js';

export function systemInfo(overrides: Partial<SystemInfo> = {}): SystemInfo {
  return {
    hostname: 'pi-1',
    os: { platform: 'linux', name: 'Debian GNU/Linux 12 (bookworm)', version: '12', kernel: '6.1.0' },
    architecture: 'aarch64',
    cpuCount: 4,
    memoryBytes: 8 * 1024 ** 3,
    dataDir: '/var/lib/skep',
    addresses: [],
    engine: { available: false, endpoint: 'unix:///var/run/docker.sock', reason: 'no Docker Engine found' },
    skepVersion: 'test',
    nodeVersion: '20.0.0',
    ...overrides,
  };
}

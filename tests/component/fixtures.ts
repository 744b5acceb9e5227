// Shared test data for the renderer's components: a 3-manager, 1-worker swarm.
import type { RaftMemberView, RaftView, SwarmNode, SwarmStatus } from '../../shared/types.js';

export const IDS = { a: 'aaaaaaaaaaaa1111', b: 'bbbbbbbbbbbb2222', c: 'cccccccccccc3333', w: 'wwwwwwwwwwww4444' } as const;

export function member(nodeId: string, hostname: string, overrides: Partial<RaftMemberView> = {}): RaftMemberView {
  return { nodeId, hostname, addr: `${hostname}:2377`, role: 'follower', reachable: true, matchIndex: 40, lag: 2, lastContactMs: 120, ...overrides };
}

export function raft(overrides: Partial<RaftView> = {}): RaftView {
  return {
    term: 7,
    leaderId: IDS.a,
    commitIndex: 42,
    appliedIndex: 41,
    members: [
      member(IDS.a, 'alpha', { role: 'leader', matchIndex: 42, lag: 0, lastContactMs: 0 }),
      member(IDS.b, 'bravo'),
      member(IDS.c, 'charlie', { reachable: false, matchIndex: 30, lag: 12, lastContactMs: 9000 }),
    ],
    ...overrides,
  };
}

export function status(overrides: Partial<Extract<SwarmStatus, { state: 'active' }>> = {}): Extract<SwarmStatus, { state: 'active' }> {
  return {
    state: 'active',
    nodeId: IDS.a,
    clusterId: 'cluster1',
    role: 'manager',
    nodeAddr: '127.0.0.60:2377',
    managers: 3,
    reachableManagers: 3,
    nodes: 4,
    readyNodes: 4,
    leaderId: IDS.a,
    raft: raft(),
    ...overrides,
  };
}

export function node(id: string, hostname: string, overrides: { role?: 'manager' | 'worker'; state?: 'ready' | 'down'; leader?: boolean; reachable?: boolean; availability?: 'active' | 'pause' | 'drain'; labels?: Record<string, string>; specRole?: 'manager' | 'worker' } = {}): SwarmNode {
  const role = overrides.role ?? 'worker';
  return {
    id,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    spec: { role: overrides.specRole ?? role, availability: overrides.availability ?? 'active', labels: overrides.labels ?? {} },
    role,
    description: { hostname, platform: { os: 'linux', architecture: 'x86_64' }, resources: { cpus: 2, memoryBytes: 2 * 1024 ** 3 }, engineVersion: '24.0.7' },
    status: { state: overrides.state ?? 'ready', addr: `10.0.0.${hostname.length}`, message: '' },
    ...(role === 'manager'
      ? { managerStatus: { leader: overrides.leader ?? false, reachability: overrides.reachable === false ? 'unreachable' : 'reachable', addr: `10.0.0.${hostname.length}:2377` } as const }
      : {}),
    certificate: { notAfter: new Date(Date.now() + 30 * 86_400_000).toISOString() },
  };
}

export const NODES: readonly SwarmNode[] = [
  node(IDS.a, 'alpha', { role: 'manager', leader: true }),
  node(IDS.b, 'bravo', { role: 'manager' }),
  node(IDS.c, 'charlie', { role: 'manager' }),
  node(IDS.w, 'whiskey', { availability: 'drain', labels: { zone: 'attic' } }),
];

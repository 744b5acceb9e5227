// Records and stand-ins shared by the swarm unit tests: plain data, an in-memory store, and a
// proposer that counts what components propose. No Raft, no processes.
import type { NodeDescription, NodeRole, NodeState } from '../../../shared/types.js';
import { MemoryProposer, type Proposer } from '../../../electron/swarm/state/proposer.js';
import { SwarmStore, type ClusterRecord, type Command, type NodeRecord } from '../../../electron/swarm/state/store.js';

/** A 25-character node ID starting with `stem`, so tests can pick shared prefixes. */
export function nodeId(stem: string): string {
  return stem.padEnd(25, '0');
}

export function description(hostname: string): NodeDescription {
  return { hostname, platform: { os: 'linux', architecture: 'x86_64' }, resources: { cpus: 2, memoryBytes: 2 ** 31 }, engineVersion: '27.5.1' };
}

export const T0 = '2026-11-29T20:00:00.000Z';

/** Join-token secrets as the CA makes them (25 base36 digits below 2^128). */
export const WORKER_SECRET = '0000000000000000000000001';
export const MANAGER_SECRET = '0000000000000000000000002';

export function nodeRecord(
  id: string,
  options: { hostname?: string; role?: NodeRole; wanted?: NodeRole; state?: NodeState; clusterAddr?: string; labels?: Record<string, string> } = {},
): NodeRecord {
  const role = options.role ?? 'worker';
  return {
    id,
    createdAt: T0,
    updatedAt: T0,
    spec: { role: options.wanted ?? role, availability: 'active', labels: options.labels ?? {} },
    role,
    description: description(options.hostname ?? `host-${id.slice(0, 4)}`),
    status: { state: options.state ?? 'ready', addr: '10.0.0.1', message: '' },
    clusterAddr: options.clusterAddr ?? '10.0.0.1:4789',
    certNotAfter: '2027-02-27T20:00:00.000Z',
  };
}

export function clusterRecord(overrides: Partial<ClusterRecord> = {}): ClusterRecord {
  return {
    id: 'cluster0000000000000000000',
    createdAt: T0,
    ca: { certPem: 'CA CERT', keyPem: 'CA KEY' },
    tokenSecrets: { worker: WORKER_SECRET, manager: MANAGER_SECRET },
    ...overrides,
  };
}

/** Records every proposal before handing it to the real proposer. */
export class CountingProposer implements Proposer {
  readonly proposed: Command[] = [];
  constructor(private readonly inner: Proposer) {}

  async propose(command: Command): Promise<void> {
    this.proposed.push(command);
    await this.inner.propose(command);
  }
}

/** A store founded by `cluster.create` with `founder`, then each of `others` registered. */
export async function storeWith(founder: NodeRecord, others: readonly NodeRecord[] = [], cluster = clusterRecord()): Promise<{ store: SwarmStore; proposer: CountingProposer }> {
  const store = new SwarmStore();
  const memory = new MemoryProposer(store);
  await memory.propose({ op: 'cluster.create', cluster, node: founder });
  for (const node of others) await memory.propose({ op: 'node.register', node });
  return { store, proposer: new CountingProposer(memory) };
}

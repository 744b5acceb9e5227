// The control API for nodes (`skep node …`), on any manager: reads from the store after a read
// barrier, writes through the proposer, with Docker's refusals and quorum math before acting.
import { skepError } from '../../../shared/errors.js';
import { MAX_NODE_LABEL_BYTES, nodeLabelBytes } from '../../../shared/api-schemas.js';
import { managerCountChange } from '../../../shared/quorum.js';
import type { NodeUpdate, RaftView, SwarmNode } from '../../../shared/types.js';
import type { Proposer } from '../state/proposer.js';
import type { NodeRecord, SwarmState } from '../state/store.js';

export interface NodeControlDeps {
  readonly selfId: string;
  readonly state: () => SwarmState;
  readonly proposer: Proposer;
  readonly readBarrier: () => Promise<void>;
  readonly raftView: () => RaftView;
  readonly isRaftMember: (nodeId: string) => boolean;
}

function iso(): string {
  return new Date().toISOString();
}

export class NodeControl {
  constructor(private readonly deps: NodeControlDeps) {}

  // As Docker's manager sends reads to the leader: without one, a read fails (NO_LEADER).
  async list(): Promise<SwarmNode[]> {
    await this.deps.readBarrier();
    return Object.values(this.deps.state().nodes)
      .map((node) => this.toSwarmNode(node))
      .sort((a, b) => a.description.hostname.localeCompare(b.description.hostname) || a.id.localeCompare(b.id));
  }

  async inspect(ref: string): Promise<SwarmNode> {
    await this.deps.readBarrier();
    return this.toSwarmNode(this.resolve(ref));
  }

  async promote(ref: string): Promise<void> {
    const node = this.resolve(ref);
    if (node.spec.role === 'manager') return;
    await this.deps.proposer.propose({ op: 'node.spec', id: node.id, at: iso(), role: 'manager' });
  }

  async demote(ref: string): Promise<void> {
    const node = this.resolve(ref);
    if (node.spec.role === 'worker') return;
    const voters = this.deps.raftView().members.filter((m) => m.role !== 'learner');
    const managersWanted = Object.values(this.deps.state().nodes).filter((n) => n.spec.role === 'manager');
    if (managersWanted.length <= 1) throw skepError('DEMOTE_LAST_MANAGER');
    const member = voters.find((m) => m.nodeId === node.id);
    const change = managerCountChange({ managers: voters.length, reachable: voters.filter((m) => m.reachable).length }, { kind: 'remove', reachable: member?.reachable === true });
    if (member && !change.keepsQuorum) throw skepError('DEMOTE_LOSES_QUORUM');
    await this.deps.proposer.propose({ op: 'node.spec', id: node.id, at: iso(), role: 'worker' });
  }

  async remove(ref: string, force: boolean): Promise<string> {
    const node = this.resolve(ref);
    const isManager = node.role === 'manager' || node.spec.role === 'manager' || this.deps.isRaftMember(node.id);
    // Docker answers the only manager's removal with the demote refusal's words; say what is true.
    if (isManager && !Object.values(this.deps.state().nodes).some((n) => n.id !== node.id && n.spec.role === 'manager')) throw skepError('REMOVE_LAST_MANAGER', node.id);
    if (isManager) throw skepError('REMOVE_MANAGER', node.id);
    if (node.status.state !== 'down' && !force) throw skepError('REMOVE_NODE_NOT_DOWN', node.id);
    await this.deps.proposer.propose({ op: 'node.remove', id: node.id });
    return node.id;
  }

  async update(ref: string, update: NodeUpdate): Promise<void> {
    const node = this.resolve(ref);
    // As Docker's CLI (opts.ValidateLabel): a label needs a name; say so in its words, not the schema's.
    const emptyKey = Object.entries(update.labelAdd ?? {}).find(([key]) => key.trim() === '');
    if (emptyKey) throw skepError('LABEL_EMPTY_KEY', `=${emptyKey[1]}`);
    // As Docker's CLI: a label to remove must exist once the added labels are in.
    const labels = { ...node.spec.labels, ...update.labelAdd };
    const missing = update.labelRm?.find((key) => !Object.hasOwn(labels, key));
    if (missing !== undefined) throw skepError('LABEL_NOT_FOUND', missing);
    for (const key of update.labelRm ?? []) delete labels[key];
    const labelBytes = nodeLabelBytes(labels);
    if (labelBytes > MAX_NODE_LABEL_BYTES) throw skepError('LABELS_TOO_LARGE', node.id, labelBytes, MAX_NODE_LABEL_BYTES);
    await this.deps.proposer.propose({
      op: 'node.spec',
      id: node.id,
      at: iso(),
      ...(update.availability ? { availability: update.availability } : {}),
      ...(update.labelAdd ? { labelAdd: update.labelAdd } : {}),
      ...(update.labelRm ? { labelRm: update.labelRm } : {}),
    });
  }

  /** By ID, hostname, or unique ID prefix — as Docker resolves node names; 'self' is this node. */
  resolve(ref: string): NodeRecord {
    const state = this.deps.state();
    if (ref === 'self') ref = this.deps.selfId;
    const exact = state.nodes[ref];
    if (exact) return exact;
    const byHostname = Object.values(state.nodes).filter((n) => n.description.hostname === ref);
    if (byHostname.length === 1 && byHostname[0]) return byHostname[0];
    if (byHostname.length > 1) throw skepError('NODE_AMBIGUOUS', ref, byHostname.length);
    const byPrefix = Object.values(state.nodes).filter((n) => n.id.startsWith(ref));
    if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0];
    if (byPrefix.length > 1) throw skepError('NODE_AMBIGUOUS', ref, byPrefix.length);
    throw skepError('NODE_NOT_FOUND', ref);
  }

  private toSwarmNode(node: NodeRecord): SwarmNode {
    const view = this.deps.raftView();
    const member = view.members.find((m) => m.nodeId === node.id && m.role !== 'learner');
    return {
      id: node.id,
      ...(node.version !== undefined ? { version: node.version } : {}),
      createdAt: node.createdAt,
      updatedAt: node.updatedAt,
      spec: node.spec,
      role: node.role,
      description: node.description,
      status: node.status,
      ...(member
        ? { managerStatus: { leader: view.leaderId === node.id, reachability: member.reachable ? 'reachable' : 'unreachable', addr: node.clusterAddr } }
        : {}),
      ...(node.certNotAfter ? { certificate: { notAfter: node.certNotAfter } } : {}),
    } as SwarmNode;
  }
}

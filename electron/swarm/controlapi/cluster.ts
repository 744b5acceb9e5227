// The control API for the swarm itself: join tokens (show, rotate) and node certificates, which
// state the role the store wants for the node — whatever its old certificate said — once Raft
// membership allows it.
import { skepError } from '../../../shared/errors.js';
import type { NodeRole } from '../../../shared/types.js';
import { caDigest, formatJoinToken, issueNodeCertificate, JoinTokens } from '../ca/index.js';
import type { Proposer } from '../state/proposer.js';
import type { ClusterRecord, SwarmState } from '../state/store.js';

export interface ClusterControlDeps {
  readonly state: () => SwarmState;
  readonly proposer: Proposer;
}

export class ClusterControl {
  constructor(private readonly deps: ClusterControlDeps) {}

  cluster(): ClusterRecord {
    const cluster = this.deps.state().cluster;
    if (!cluster) throw skepError('NO_LEADER');
    return cluster;
  }

  async joinToken(role: NodeRole, rotate: boolean): Promise<string> {
    if (rotate) {
      const tokens = new JoinTokens(this.cluster().ca.certPem, this.cluster().tokenSecrets);
      tokens.rotate(role);
      await this.deps.proposer.propose({ op: 'tokens.rotate', role, secret: tokens.secrets()[role] });
    }
    const cluster = this.cluster();
    return formatJoinToken(caDigest(cluster.ca.certPem), cluster.tokenSecrets[role]);
  }

  /** The join service asks which role a presented secret grants. */
  matchJoinSecret(secret: string): ReturnType<JoinTokens['match']> {
    const cluster = this.deps.state().cluster;
    if (!cluster) return null;
    return new JoinTokens(cluster.ca.certPem, cluster.tokenSecrets).match(secret);
  }

  /**
   * A node renews its own certificate; the role is the one the swarm wants for it now — except
   * that a demoted manager still voting in Raft keeps its manager certificate until Raft has let it
   * go: with a worker certificate its Raft traffic is refused, and a group of two managers could
   * then never commit the removal it waits for.
   */
  async renewCertificate(nodeId: string, csrPem: string): Promise<string> {
    const node = this.deps.state().nodes[nodeId];
    if (!node) throw skepError('NODE_NOT_FOUND', nodeId);
    const manager = node.spec.role === 'manager' || node.role === 'manager';
    return issueNodeCertificate(this.cluster().ca, csrPem, { nodeId, role: manager ? 'swarm-manager' : 'swarm-worker' });
  }
}

// A node renews its own certificate before it expires and when the role it states is no longer
// the role the swarm wants. The key never leaves the node: a new key and CSR each time. Nothing a
// manager sends back is installed before it is checked: issued by the swarm's CA (the one this
// node pinned at join), for this node, with the role asked for, and for the key just made.
import { skepError } from '../../shared/errors.js';
import type { ConnectionPool } from '../net/index.js';
import { call, type HeartbeatAnswer } from '../protocol/index.js';
import { certificateMatchesKey, createNodeKeyAndCsr, needsRenewal, readNodeCertificate, verifyNodeCertificate } from '../swarm/ca/index.js';
import type { NodeCredentials } from './local-state.js';

/** Renew when this much of a certificate's lifetime has passed (Swarm renews at a random point in 50–80%). */
const RENEW_AT_FRACTION = 0.5;
const RENEW_CHECK_MS = 60 * 60 * 1000;

export interface RenewalContext {
  readonly nodeId: string;
  readonly pool: ConnectionPool;
  readonly credentials: () => NodeCredentials;
  /** Saves and starts using the renewed credentials. */
  readonly install: (credentials: NodeCredentials) => Promise<void>;
}

export class CertificateRenewer {
  private lastCheck = 0;
  private renewing = false;

  constructor(private readonly context: RenewalContext) {}

  /** Called with each heartbeat answer; renews when due or when the wanted role changed. */
  async maybeRenew(answer: HeartbeatAnswer): Promise<boolean> {
    const now = Date.now();
    const credentials = this.context.credentials();
    const info = readNodeCertificate(credentials.certPem);
    // The certificate states the role the swarm wants (spec.role), as the issuing side does — and a
    // demoted manager stays a manager until it has left the Raft group (the answer still lists it).
    const stillVoter = answer.managers.some((m) => m.nodeId === this.context.nodeId);
    const wantedRole = answer.desiredRole === 'manager' || stillVoter ? 'swarm-manager' : 'swarm-worker';
    const roleChanged = info.role !== wantedRole && answer.leaderId !== null;
    const due = needsRenewal(credentials.certPem, new Date(now), RENEW_AT_FRACTION);
    if (!roleChanged && !due) return false;
    if (this.renewing || (!roleChanged && now - this.lastCheck < RENEW_CHECK_MS)) return false;
    const leader = answer.managers.find((m) => m.nodeId === answer.leaderId) ?? answer.managers[0];
    if (!leader) return false;
    this.lastCheck = now;
    this.renewing = true;
    try {
      await this.renew({ address: leader.addr, nodeId: leader.nodeId }, wantedRole);
      return true;
    } finally {
      this.renewing = false;
    }
  }

  private async renew(manager: { address: string; nodeId: string }, wantedRole: 'swarm-manager' | 'swarm-worker'): Promise<void> {
    const credentials = this.context.credentials();
    const key = await createNodeKeyAndCsr();
    const { certPem } = await call(this.context.pool, { ...manager, role: 'swarm-manager' }, 'ca.renewNodeCertificate', { csrPem: key.csrPem }, { timeoutMs: 5000 });
    const renewed = verifyNodeCertificate(certPem, credentials.caCertPem);
    if (renewed.nodeId !== this.context.nodeId) throw skepError('INVALID_CERTIFICATE', `the manager issued a certificate for node ${renewed.nodeId}, not for this node`);
    if (renewed.role !== wantedRole) throw skepError('INVALID_CERTIFICATE', `the manager issued a ${renewed.role} certificate where ${wantedRole} was expected`);
    if (!certificateMatchesKey(certPem, key.keyPem)) throw skepError('INVALID_CERTIFICATE', 'it is not for the key this node made');
    await this.context.install({ certPem, keyPem: key.keyPem, caCertPem: credentials.caCertPem });
  }
}

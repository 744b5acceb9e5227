// Who is on the other end of a connection, as the cluster CA vouched for it:
// certificate CN = node ID, OU = role. Nothing else in a certificate is trusted for identity.

import type { PeerCertificate } from 'node:tls';
import { skepError } from '../../shared/errors.js';

export const NODE_ROLES = ['swarm-manager', 'swarm-worker'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export interface PeerIdentity {
  readonly nodeId: string;
  readonly role: NodeRole;
}

/** Node IDs are 25 lowercase base36 characters, as Swarm's. */
const NODE_ID = /^[0-9a-z]{25}$/;

export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID.test(value);
}

export function isNodeRole(value: unknown): value is NodeRole {
  return value === 'swarm-manager' || value === 'swarm-worker';
}

/** The identity in a verified peer certificate, or null when CN/OU are missing or malformed. */
export function identityFromPeerCertificate(cert: PeerCertificate | null | undefined): PeerIdentity | null {
  // An empty object is what Node returns when the peer sent no certificate.
  const subject = (cert as Partial<PeerCertificate> | null | undefined)?.subject as Record<string, unknown> | undefined;
  if (subject === undefined) return null;
  // Node gives an array when an attribute repeats; a certificate with two CNs identifies nobody.
  const cn = subject['CN'];
  const ou = subject['OU'];
  if (!isNodeId(cn) || !isNodeRole(ou)) return null;
  return { nodeId: cn, role: ou };
}

export interface ExpectedPeer {
  readonly nodeId?: string | undefined;
  readonly role?: NodeRole | undefined;
}

/**
 * A tls `checkServerIdentity` that checks the node identity instead of a hostname: cluster
 * addresses are IPs that change with DHCP, while the node ID in the certificate does not.
 */
export function nodeIdentityCheck(expected: ExpectedPeer): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const identity = identityFromPeerCertificate(cert);
    const want = `${expected.nodeId ?? '<any node>'} (${expected.role ?? 'any role'})`;
    if (identity === null) return skepError('PEER_IDENTITY_MISMATCH', want, '<none>');
    if ((expected.nodeId !== undefined && identity.nodeId !== expected.nodeId) ||
        (expected.role !== undefined && identity.role !== expected.role)) {
      return skepError('PEER_IDENTITY_MISMATCH', want, `${identity.nodeId} (${identity.role})`);
    }
    return undefined;
  };
}

// Test fixtures: a CA and node credentials made with the real PKI code.
import { createNodeKeyAndCsr, createRootCA, issueNodeCertificate, newNodeId, type CertificateAuthority } from '../../../electron/swarm/ca/index.js';
import type { NodeRole, TlsCredentials } from '../../../electron/net/index.js';

export interface Pki {
  readonly ca: CertificateAuthority;
  node(role?: NodeRole, nodeId?: string): Promise<TlsCredentials & { nodeId: string; role: NodeRole }>;
}

export async function makePki(): Promise<Pki> {
  const ca = await createRootCA();
  return {
    ca,
    async node(role = 'swarm-manager', nodeId = newNodeId()) {
      const key = await createNodeKeyAndCsr();
      const certPem = await issueNodeCertificate(ca, key.csrPem, { nodeId, role });
      return { certPem, keyPem: key.keyPem, caPem: ca.certPem, nodeId, role };
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until check() is true or the time is up. */
export async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

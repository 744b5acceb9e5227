// Certificate renewal on the node: nothing a manager sends back is installed before it is checked —
// issued by the pinned CA, for this node, with the role asked for, for the key the node just made.
// The manager here is a stand-in pool (named as such) whose answers a real CA signs.
import { describe, expect, it } from 'vitest';
import { SkepError } from '../../../shared/errors.js';
import type { ConnectionPool } from '../../../electron/net/index.js';
import type { HeartbeatAnswer } from '../../../electron/protocol/index.js';
import { CertificateRenewer } from '../../../electron/node/certificates.js';
import type { NodeCredentials } from '../../../electron/node/local-state.js';
import { createNodeKeyAndCsr, createRootCA, issueNodeCertificate, newNodeId, readNodeCertificate, type CertificateAuthority } from '../../../electron/swarm/ca/index.js';

type Answerer = (csrPem: string) => Promise<string>;

/** A stand-in for the connection pool: answers ca.renewNodeCertificate with what `answer` makes. */
function standInPool(answer: Answerer): ConnectionPool {
  return {
    request: async (_peer: unknown, method: string, body: { csrPem: string }) => {
      if (method !== 'ca.renewNodeCertificate') throw new Error(`unexpected ${method}`);
      return { certPem: await answer(body.csrPem) };
    },
  } as unknown as ConnectionPool;
}

async function setup(answer: (ca: CertificateAuthority, nodeId: string, other: CertificateAuthority) => Answerer) {
  const ca = await createRootCA();
  const other = await createRootCA();
  const nodeId = newNodeId();
  const key = await createNodeKeyAndCsr();
  let credentials: NodeCredentials = { certPem: await issueNodeCertificate(ca, key.csrPem, { nodeId, role: 'swarm-worker' }), keyPem: key.keyPem, caCertPem: ca.certPem };
  const installed: NodeCredentials[] = [];
  const renewer = new CertificateRenewer({
    nodeId,
    pool: standInPool(answer(ca, nodeId, other)),
    credentials: () => credentials,
    install: async (renewed) => {
      installed.push(renewed);
      credentials = renewed;
    },
  });
  return { renewer, installed, nodeId, ca };
}

const promoted = (leaderId: string): HeartbeatAnswer => ({ clusterId: 'c', leaderId, managers: [{ nodeId: leaderId, addr: '127.0.0.1:2377' }], desiredRole: 'manager' });

describe('certificate renewal checks what a manager sends back', () => {
  const leader = newNodeId();

  it('installs a certificate for this node, with the wanted role, from the pinned CA, for the new key', async () => {
    const { renewer, installed, nodeId } = await setup((ca, id) => (csr) => issueNodeCertificate(ca, csr, { nodeId: id, role: 'swarm-manager' }));
    expect(await renewer.maybeRenew(promoted(leader))).toBe(true);
    expect(installed).toHaveLength(1);
    expect(readNodeCertificate(installed[0]!.certPem)).toMatchObject({ nodeId, role: 'swarm-manager' });
  });

  const refusals: [string, (ca: CertificateAuthority, id: string, other: CertificateAuthority) => Answerer, RegExp][] = [
    ['another node\'s certificate', (ca) => (csr) => issueNodeCertificate(ca, csr, { nodeId: newNodeId(), role: 'swarm-manager' }), /for node .* not for this node/],
    ['the wrong role', (ca, id) => (csr) => issueNodeCertificate(ca, csr, { nodeId: id, role: 'swarm-worker' }), /swarm-worker certificate where swarm-manager was expected/],
    ['a foreign CA', (_ca, id, other) => (csr) => issueNodeCertificate(other, csr, { nodeId: id, role: 'swarm-manager' }), /not issued by this swarm's CA/],
    ['a certificate for another key', (ca, id) => async () => issueNodeCertificate(ca, (await createNodeKeyAndCsr()).csrPem, { nodeId: id, role: 'swarm-manager' }), /not for the key this node made/],
    ['garbage', () => async () => 'not a certificate', /.+/],
  ];
  for (const [what, answer, message] of refusals) {
    it(`refuses ${what} and keeps the old credentials`, async () => {
      const { renewer, installed } = await setup(answer);
      const error = await renewer.maybeRenew(promoted(leader)).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(SkepError);
      expect((error as Error).message).toMatch(message);
      expect(installed).toHaveLength(0);
    });
  }

  it('does nothing while the certificate is young and states the wanted role', async () => {
    const { renewer, installed } = await setup((ca, id) => (csr) => issueNodeCertificate(ca, csr, { nodeId: id, role: 'swarm-worker' }));
    expect(await renewer.maybeRenew({ ...promoted(leader), desiredRole: 'worker' })).toBe(false);
    expect(installed).toHaveLength(0);
  });
});

describe('a demoted manager that is still a Raft voter', () => {
  it('keeps its manager certificate until it has left the group', async () => {
    const ca = await createRootCA();
    const nodeId = newNodeId();
    const key = await createNodeKeyAndCsr();
    const credentials: NodeCredentials = { certPem: await issueNodeCertificate(ca, key.csrPem, { nodeId, role: 'swarm-manager' }), keyPem: key.keyPem, caCertPem: ca.certPem };
    const asked: string[] = [];
    const renewer = new CertificateRenewer({
      nodeId,
      pool: standInPool(async (csr) => {
        asked.push(csr);
        return issueNodeCertificate(ca, csr, { nodeId, role: 'swarm-worker' });
      }),
      credentials: () => credentials,
      install: async () => undefined,
    });
    const leader = newNodeId();
    const demotedButVoting: HeartbeatAnswer = { clusterId: 'c', leaderId: leader, managers: [{ nodeId: leader, addr: 'a:1' }, { nodeId, addr: 'b:1' }], desiredRole: 'worker' };
    expect(await renewer.maybeRenew(demotedButVoting)).toBe(false);
    expect(asked).toHaveLength(0);
    expect(await renewer.maybeRenew({ ...demotedButVoting, managers: [{ nodeId: leader, addr: 'a:1' }] })).toBe(true);
    expect(asked).toHaveLength(1);
  });
});

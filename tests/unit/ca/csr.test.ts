// The CSR a node makes with node:crypto alone (csr.ts) must read as a valid PKCS#10 request to
// independent readers: OpenSSL, and @peculiar/x509 (what managers issue from).
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { CSR_COMMON_NAME, createKeyAndCsr, encodeCsr } from '../../../electron/swarm/ca/csr.js';
import { createRootCA, issueNodeCertificate, newNodeId, readNodeCertificate, certificateMatchesKey } from '../../../electron/swarm/ca/index.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

/** OpenSSL 3.0 exits 0 either way and says how the self-signature checked out on stderr. */
function openssl(csrPem: string): { text: string; verdict: string } {
  const run = spawnSync('openssl', ['req', '-verify', '-noout', '-text'], { input: csrPem, encoding: 'utf8' });
  if (run.error) throw run.error;
  return { text: run.stdout, verdict: run.stderr };
}

describe('a node CSR made with node:crypto', () => {
  it('verifies with OpenSSL and names the placeholder subject and a P-256 key', async () => {
    const { csrPem, keyPem } = await createKeyAndCsr();
    const { text, verdict } = openssl(csrPem);
    expect(verdict).toContain('self-signature verify OK');
    expect(text).toContain(`Subject: CN = ${CSR_COMMON_NAME}`);
    expect(text).toContain('NIST CURVE: P-256');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(createPrivateKey(keyPem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('verifies with @peculiar/x509, and its public key is the one of the key beside it', async () => {
    const { csrPem, keyPem } = await createKeyAndCsr();
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    expect(await csr.verify()).toBe(true);
    const spki = Buffer.from(csr.publicKey.rawData);
    expect(spki.equals(createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' }))).toBe(true);
  });

  it('is refused when signed by another key than the one it carries', async () => {
    const carried = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = encodeCsr(carried.publicKey, other.privateKey);
    const csrPem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(openssl(csrPem).verdict).toContain('self-signature verify failure');
    expect(await new x509.Pkcs10CertificateRequest(csrPem).verify()).toBe(false);
    await expect(issueNodeCertificate(await createRootCA(), csrPem, { nodeId: newNodeId(), role: 'swarm-worker' })).rejects.toMatchObject({ code: 'INVALID_CSR' });
  });

  it('is what a manager issues a certificate from, for that key', async () => {
    const ca = await createRootCA();
    const { csrPem, keyPem } = await createKeyAndCsr();
    const nodeId = newNodeId();
    const certPem = await issueNodeCertificate(ca, csrPem, { nodeId, role: 'swarm-worker' });
    expect(readNodeCertificate(certPem)).toMatchObject({ nodeId, role: 'swarm-worker' });
    expect(certificateMatchesKey(certPem, keyPem)).toBe(true);
  });
});

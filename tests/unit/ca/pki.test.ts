import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SkepError } from '../../../shared/errors.js';
import {
  BACKDATE_MS,
  OID_CLIENT_AUTH,
  OID_SERVER_AUTH,
  certificateMatchesKey,
  createNodeKeyAndCsr,
  createRootCA,
  issueNodeCertificate,
  needsRenewal,
  newNodeId,
  readNodeCertificate,
  verifyNodeCertificate,
  type CertificateAuthority,
} from '../../../electron/swarm/ca/index.js';

const DAY_MS_FOR_TESTS = 24 * 60 * 60 * 1000;

let ca: CertificateAuthority;
beforeAll(async () => {
  ca = await createRootCA();
});

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkepError);
    return (error as SkepError).code;
  }
  throw new Error('expected a SkepError');
}

async function asyncCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(SkepError);
    return (error as SkepError).code;
  }
  throw new Error('expected a SkepError');
}

describe('node IDs', () => {
  it('are 25 lowercase base36 characters and do not repeat', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newNodeId()));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{25}$/);
  });
});

describe('root CA', () => {
  it('is a self-signed ECDSA P-256 CA valid for 20 years', () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=skep-swarm-ca');
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365 * DAY_MS_FOR_TESTS);
    expect(years).toBeGreaterThan(19.99);
    expect(years).toBeLessThan(20.01);
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });
});

describe('node certificates', () => {
  it('carry CN = node ID, OU = role, both EKUs, SANs and a 90-day validity', async () => {
    const key = await createNodeKeyAndCsr();
    const nodeId = newNodeId();
    const now = new Date('2026-06-01T12:00:00Z');
    const pem = await issueNodeCertificate(ca, key.csrPem, { nodeId, role: 'swarm-worker', clusterId: 'abc123', now });
    const cert = new X509Certificate(pem);
    expect(cert.subject.split('\n')).toEqual([`CN=${nodeId}`, 'OU=swarm-worker', 'O=abc123']);
    expect(cert.issuer).toBe('CN=skep-swarm-ca');
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual([OID_SERVER_AUTH, OID_CLIENT_AUTH]);
    expect(cert.subjectAltName).toBe(`DNS:${nodeId}, DNS:swarm-worker`);
    expect(cert.checkHost(nodeId)).toBe(nodeId);
    expect(Date.parse(cert.validFrom)).toBe(now.getTime() - BACKDATE_MS);
    expect(Date.parse(cert.validTo)).toBe(now.getTime() + 90 * DAY_MS_FOR_TESTS);
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(certificateMatchesKey(pem, key.keyPem)).toBe(true);
    expect(verifyNodeCertificate(pem, ca.certPem, now)).toMatchObject({ nodeId, role: 'swarm-worker', clusterId: 'abc123' });
    expect(readNodeCertificate(pem)).toMatchObject({ nodeId, role: 'swarm-worker' });
  });

  it('take only the public key from the CSR, and refuse bad requests', async () => {
    const key = await createNodeKeyAndCsr();
    const other = await createNodeKeyAndCsr();
    const nodeId = newNodeId();
    expect(await asyncCode(issueNodeCertificate(ca, key.csrPem, { nodeId: 'NOT-AN-ID', role: 'swarm-worker' }))).toBe('INVALID_REQUEST');
    expect(await asyncCode(issueNodeCertificate(ca, key.csrPem, { nodeId, role: 'admin' as never }))).toBe('INVALID_REQUEST');
    expect(await asyncCode(issueNodeCertificate(ca, 'garbage', { nodeId, role: 'swarm-worker' }))).toBe('INVALID_CSR');
    expect(await asyncCode(issueNodeCertificate(ca, 'x'.repeat(100_000), { nodeId, role: 'swarm-worker' }))).toBe('INVALID_CSR');
    // Tamper with the signed part: the self-signature no longer verifies.
    const der = Buffer.from(key.csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const i = der.indexOf(Buffer.from('skep-node'));
    der[i] = 'S'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(await asyncCode(issueNodeCertificate(ca, tampered, { nodeId, role: 'swarm-worker' }))).toBe('INVALID_CSR');
    const pem = await issueNodeCertificate(ca, key.csrPem, { nodeId, role: 'swarm-manager' });
    expect(certificateMatchesKey(pem, other.keyPem)).toBe(false);
  });

  it('verify only against their own CA and within their validity', async () => {
    const otherCa = await createRootCA();
    const key = await createNodeKeyAndCsr();
    const now = new Date('2026-06-01T12:00:00Z');
    const pem = await issueNodeCertificate(ca, key.csrPem, { nodeId: newNodeId(), role: 'swarm-manager', now });
    expect(code(() => verifyNodeCertificate(pem, otherCa.certPem, now))).toBe('INVALID_CERTIFICATE');
    expect(code(() => verifyNodeCertificate(pem, ca.certPem, new Date(now.getTime() + 91 * DAY_MS_FOR_TESTS)))).toBe('INVALID_CERTIFICATE');
    expect(code(() => verifyNodeCertificate(pem, ca.certPem, new Date(now.getTime() - 2 * BACKDATE_MS)))).toBe('INVALID_CERTIFICATE');
    expect(code(() => verifyNodeCertificate(ca.certPem, ca.certPem, now))).toBe('INVALID_CERTIFICATE');
    expect(code(() => readNodeCertificate('not a cert'))).toBe('INVALID_CERTIFICATE');
  });

  it('need renewal once the given fraction of their lifetime has passed', async () => {
    const key = await createNodeKeyAndCsr();
    const now = new Date('2026-06-01T12:00:00Z');
    const pem = await issueNodeCertificate(ca, key.csrPem, { nodeId: newNodeId(), role: 'swarm-worker', now });
    const from = now.getTime() - BACKDATE_MS;
    const lifetime = 90 * DAY_MS_FOR_TESTS + BACKDATE_MS;
    const at = (f: number): Date => new Date(from + lifetime * f);
    expect(needsRenewal(pem, now)).toBe(false);
    expect(needsRenewal(pem, at(0.49))).toBe(false);
    expect(needsRenewal(pem, at(0.5))).toBe(true);
    expect(needsRenewal(pem, at(0.79), 0.8)).toBe(false);
    expect(needsRenewal(pem, at(0.81), 0.8)).toBe(true);
    expect(needsRenewal(pem, at(1.5))).toBe(true);
    expect(() => needsRenewal(pem, now, 0)).toThrow(RangeError);
  });
});

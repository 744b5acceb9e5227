// The cluster's PKI: a self-signed ECDSA P-256 root CA, node keys with CSRs made on the node (the
// private key never leaves it), and short-lived node certificates whose subject carries the
// identity the transport trusts: CN = node ID, OU = role (O = cluster ID when given).

import { X509Certificate, createHash, createPrivateKey, createPublicKey, randomBytes, type webcrypto } from 'node:crypto';
import { skepError } from '../../../shared/errors.js';
import { isNodeId, isNodeRole, type NodeRole } from '../../net/index.js';
import type * as X509 from '@peculiar/x509';
import { createKeyAndCsr } from './csr.js';

/**
 * @peculiar/x509 (with reflect-metadata, asn1js, tsyringe: ~12 MiB of a process) is loaded by the
 * functions that make a CA and certificates, which only managers do; reading a certificate and making
 * a node's key and CSR use node:crypto (csr.ts), so a worker never loads it.
 */
const loadX509 = () => import('./x509.js');

export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

export const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_CA_VALIDITY_DAYS = 20 * 365;
export const DEFAULT_NODE_VALIDITY_DAYS = 90;
/** Certificates start this long before issuance, so a peer whose clock lags still accepts them. */
export const BACKDATE_MS = 60 * 60 * 1000;
export const CA_COMMON_NAME = 'skep-swarm-ca';

/** The CA's certificate and private key. keyPem is a secret. */
export interface CertificateAuthority {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A node's key pair and the CSR that carries its public key. keyPem is a secret. */
export interface NodeKeyAndCsr {
  readonly keyPem: string;
  readonly csrPem: string;
}

export interface IssueOptions {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly clusterId?: string;
  readonly validityDays?: number;
  readonly now?: Date;
}

export interface NodeCertificateInfo {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly clusterId: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber: string;
  readonly fingerprint256: string;
}

function toPem(x509: typeof X509, der: ArrayBuffer, label: string): string {
  return x509.PemConverter.encode(der, label);
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  // A positive INTEGER without a leading zero byte: clear the top bit, keep it non-zero.
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

async function importPrivateKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  const { subtle, x509 } = await loadX509();
  let der: ArrayBuffer;
  try {
    const first = x509.PemConverter.decode(keyPem)[0];
    if (first === undefined) throw new Error('no PEM block');
    der = first;
  } catch {
    // Never echo the key material, not even a prefix of it.
    throw skepError('INVALID_CERTIFICATE', 'the private key is not a PKCS#8 PEM');
  }
  return subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']);
}

/** A new root CA: ECDSA P-256, self-signed, CA:true with path length 0, 20 years by default. */
export async function createRootCA(options: { validityDays?: number; now?: Date; commonName?: string } = {}): Promise<CertificateAuthority> {
  const now = options.now ?? new Date();
  const { subtle, x509 } = await loadX509();
  const keys = await subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [options.commonName ?? CA_COMMON_NAME] }],
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (options.validityDays ?? DEFAULT_CA_VALIDITY_DAYS) * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyDer = await subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem'), keyPem: toPem(x509, keyDer, 'PRIVATE KEY') };
}

/**
 * A node key pair and a CSR for it; the CSR's subject is a placeholder, the CA sets the identity.
 * Made with node:crypto alone (csr.ts), so a worker never loads @peculiar/x509.
 */
export async function createNodeKeyAndCsr(): Promise<NodeKeyAndCsr> {
  return createKeyAndCsr();
}

/** Max accepted CSR size: an ECDSA CSR is well under 1 KiB; anything near this is not ours. */
export const MAX_CSR_PEM_BYTES = 8 * 1024;

/**
 * Issues a node certificate from a CSR. Only the CSR's public key is used (after checking its
 * self-signature): the identity comes from the caller, never from what the requester asked for.
 */
export async function issueNodeCertificate(ca: CertificateAuthority, csrPem: string, options: IssueOptions): Promise<string> {
  if (!isNodeId(options.nodeId)) throw skepError('INVALID_REQUEST', 'node IDs are 25 lowercase base36 characters');
  if (!isNodeRole(options.role)) throw skepError('INVALID_REQUEST', 'role must be swarm-manager or swarm-worker');
  if (options.clusterId !== undefined && !/^[0-9a-z]{1,64}$/.test(options.clusterId)) {
    throw skepError('INVALID_REQUEST', 'cluster IDs are lowercase base36');
  }
  if (typeof csrPem !== 'string' || csrPem.length > MAX_CSR_PEM_BYTES) throw skepError('INVALID_CSR', 'too large');
  const { x509 } = await loadX509();
  let csr: X509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw skepError('INVALID_CSR', 'not a PEM-encoded PKCS#10 request');
  }
  let valid = false;
  try {
    valid = await csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw skepError('INVALID_CSR', 'its signature does not verify');
  const algorithm = csr.publicKey.algorithm as { name?: string; namedCurve?: string };
  if (algorithm.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256') {
    throw skepError('INVALID_CSR', 'the key must be ECDSA P-256');
  }

  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importPrivateKey(ca.keyPem);
  const now = options.now ?? new Date();
  const subject: X509.JsonName = [{ CN: [options.nodeId] }, { OU: [options.role] }];
  if (options.clusterId !== undefined) subject.push({ O: [options.clusterId] });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (options.validityDays ?? DEFAULT_NODE_VALIDITY_DAYS) * DAY_MS),
    publicKey: csr.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      // The node ID (and role) as DNS names, so stock hostname checks work if someone uses them.
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: options.nodeId },
        { type: 'dns', value: options.role },
      ], false),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return cert.toString('pem');
}

function parseCertificate(certPem: string): X509Certificate {
  try {
    return new X509Certificate(certPem);
  } catch {
    throw skepError('INVALID_CERTIFICATE', 'not a PEM-encoded X.509 certificate');
  }
}

/** Reads a subject line of Node's X509Certificate ("CN=x\nOU=y") into single-valued fields. */
function subjectFields(cert: X509Certificate): Map<string, string | null> {
  const fields = new Map<string, string | null>();
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    // A repeated attribute identifies nobody: mark it ambiguous.
    fields.set(key, fields.has(key) ? null : line.slice(eq + 1));
  }
  return fields;
}

/** The identity and validity in a node certificate (no signature check: see verifyNodeCertificate). */
export function readNodeCertificate(certPem: string): NodeCertificateInfo {
  const cert = parseCertificate(certPem);
  const fields = subjectFields(cert);
  const nodeId = fields.get('CN');
  const role = fields.get('OU');
  if (!isNodeId(nodeId) || !isNodeRole(role)) throw skepError('INVALID_CERTIFICATE', 'it does not name a node and a role');
  const o = fields.get('O');
  return {
    nodeId,
    role,
    clusterId: o ?? undefined,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
  };
}

/**
 * Checks that certPem was signed by the CA, is within its validity at `now`, and is a node
 * certificate for TLS; returns its identity. Throws INVALID_CERTIFICATE otherwise.
 */
export function verifyNodeCertificate(certPem: string, caCertPem: string, now: Date = new Date()): NodeCertificateInfo {
  const cert = parseCertificate(certPem);
  const ca = parseCertificate(caCertPem);
  if (!ca.ca) throw skepError('INVALID_CERTIFICATE', 'the CA certificate is not a CA');
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw skepError('INVALID_CERTIFICATE', 'it was not issued by this swarm\'s CA');
  const info = readNodeCertificate(certPem);
  if (now < info.notBefore || now > info.notAfter) throw skepError('INVALID_CERTIFICATE', 'it is expired or not yet valid');
  const eku = cert.keyUsage ?? [];
  if (!eku.includes(OID_SERVER_AUTH) || !eku.includes(OID_CLIENT_AUTH)) {
    throw skepError('INVALID_CERTIFICATE', 'it is not valid for TLS client and server authentication');
  }
  return info;
}

export const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * True once `fraction` of the certificate's lifetime has passed at `now` (or it has expired), so
 * renewal starts well before expiry and a node that was off for a while renews first thing.
 */
export function needsRenewal(certPem: string, now: Date = new Date(), fraction = 0.5): boolean {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError('fraction must be in (0, 1]');
  const cert = parseCertificate(certPem);
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  return now.getTime() >= from + (to - from) * fraction;
}

/** SHA-256 of the certificate's DER encoding. */
export function certificateSha256(certPem: string): Buffer {
  return createHash('sha256').update(parseCertificate(certPem).raw).digest();
}

/** True when the certificate carries the public half of keyPem (an issued cert must be for our key). */
export function certificateMatchesKey(certPem: string, keyPem: string): boolean {
  const certKey = parseCertificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  let ownKey: Buffer;
  try {
    ownKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  } catch {
    throw skepError('INVALID_CERTIFICATE', 'the private key is not a PEM key');
  }
  return certKey.equals(ownKey);
}

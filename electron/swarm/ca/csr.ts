// A node's key and certificate signing request, made with node:crypto alone. Every node makes one to
// join and to renew; only managers read CSRs and issue certificates, with @peculiar/x509 (pki.ts).
// A worker that never loads that library is ~7 MiB smaller (electron/node/README.md, "Memory"), so
// this one fixed request — ECDSA P-256, subject CN=skep-node, no attributes — is encoded here:
// PKCS#10 (RFC 2986) in DER, signed with ecdsa-with-SHA256 (RFC 5758).
import { createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateEcKeyPair = promisify(generateKeyPair);

/** The placeholder subject: the CA sets the identity (pki.ts issueNodeCertificate). */
export const CSR_COMMON_NAME = 'skep-node';

const OID_COMMON_NAME = '2.5.4.3';
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128: number[] = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      base128.unshift((v % 128) | (base128.length > 0 ? 0x80 : 0));
      if (v < 128) break;
    }
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const sequence = (...contents: Buffer[]): Buffer => tlv(0x30, ...contents);

/** The DER of a CSR for `publicKey`, signed with `privateKey`. */
export function encodeCsr(publicKey: KeyObject, privateKey: KeyObject): Buffer {
  const subject = sequence(tlv(0x31, sequence(oid(OID_COMMON_NAME), tlv(0x0c, Buffer.from(CSR_COMMON_NAME, 'utf8')))));
  const info = sequence(
    tlv(0x02, Buffer.from([0])), // version 0
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa0), // attributes [0]: none
  );
  // node:crypto signs ECDSA as the DER SEQUENCE { r, s } that X.509 carries.
  const signature = sign('sha256', info, privateKey);
  return sequence(info, sequence(oid(OID_ECDSA_WITH_SHA256)), tlv(0x03, Buffer.from([0]), signature));
}

function pem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A new ECDSA P-256 key (PKCS#8 PEM, a secret) and a CSR (PEM) for it. */
export async function createKeyAndCsr(): Promise<{ keyPem: string; csrPem: string }> {
  const { privateKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
  const csr = encodeCsr(createPublicKey(privateKey), privateKey);
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, csrPem: pem(csr, 'CERTIFICATE REQUEST') };
}

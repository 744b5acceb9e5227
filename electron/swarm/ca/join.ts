// The join bootstrap: how a node with no certificate gets one.
//
//  1. The node dials a manager's bootstrap port anonymously (server-authenticated TLS).
//  2. The manager's HELLO carries the CA certificate. The node checks it against the digest in
//     its token and checks that the manager's TLS certificate was issued by that CA. Until both
//     hold, nothing secret leaves the node: a wrong address or a man in the middle learns nothing.
//  3. The node sends {secret, CSR, requested role}. The manager compares the secret with both
//     tokens in constant time, and issues a certificate for a fresh node ID with the role of the
//     token that matched (the requested role is only a hint; the token decides, as in Swarm).

import type { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { SkepError, skepError } from '../../../shared/errors.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  RpcServer,
  connectBootstrap,
  isNodeId,
  isNodeRole,
  noopLogger,
  type BootstrapServerOptions,
  type Handlers,
  type Logger,
  type NodeRole,
  type ServerOnlyCredentials,
} from '../../net/index.js';
import { newNodeId } from './ids.js';
import { describeJoinFailure } from './join-errors.js';
import {
  MAX_CSR_PEM_BYTES,
  certificateMatchesKey,
  createNodeKeyAndCsr,
  issueNodeCertificate,
  verifyNodeCertificate,
  type CertificateAuthority,
  type NodeKeyAndCsr,
} from './pki.js';
import { caDigest, caDigestHex, parseJoinToken, type JoinSecretMatcher, type TokenRole } from './tokens.js';

export const JOIN_METHOD = 'join.issueNodeCertificate';

const JoinRequest = z.strictObject({
  secret: z.string().regex(/^[0-9a-z]{25}$/),
  csrPem: z.string().max(MAX_CSR_PEM_BYTES),
  role: z.enum(['worker', 'manager']).optional(),
});

const JoinResponse = z.strictObject({
  nodeId: z.string().refine(isNodeId),
  role: z.string().refine(isNodeRole),
  certPem: z.string(),
  caCertPem: z.string(),
});

const Hello = z.object({ caCertPem: z.string().max(64 * 1024) });

export interface RegisteredNode {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly certPem: string;
  readonly remoteAddress: string;
}

export interface JoinServiceOptions {
  /** The CA that signs (its key is a secret, held by managers only). */
  readonly ca: CertificateAuthority;
  readonly tokens: JoinSecretMatcher;
  readonly clusterId?: string;
  /** Records the new node (in the Raft store) before its certificate is handed out; throw to refuse. */
  readonly register?: (node: RegisteredNode) => void | Promise<void>;
  readonly newNodeId?: () => string;
  readonly logger?: Logger;
}

export interface JoinServerOptions extends JoinServiceOptions, Omit<BootstrapServerOptions, 'handlers' | 'hello' | 'credentials'> {
  /** This manager's own node certificate and key: the bootstrap server proves itself with them. */
  readonly serverCredentials: ServerOnlyCredentials;
}

/** The request handlers of the join service (mount them only on a bootstrap server). */
export function joinHandlers(options: JoinServiceOptions): Handlers {
  const logger = options.logger ?? noopLogger;
  return {
    requests: {
      [JOIN_METHOD]: async (body, ctx) => {
        const parsed = JoinRequest.safeParse(body);
        // zod's issues could quote the secret back; say only what was wrong in general terms.
        if (!parsed.success) throw skepError('INVALID_REQUEST', 'a join request needs a secret, a CSR and optionally a role');
        const { secret, csrPem, role: requested } = parsed.data;
        const role = options.tokens.match(secret);
        if (role === null) {
          logger.warn('join: refused a join with a wrong token', { peer: ctx.remoteAddress });
          // One guess per connection: make a brute-force attempt pay a TLS handshake each time.
          setImmediate(() => ctx.connection.close());
          throw skepError('JOIN_TOKEN_REJECTED');
        }
        const nodeId = (options.newNodeId ?? newNodeId)();
        const certPem = await issueNodeCertificate(options.ca, csrPem, {
          nodeId,
          role,
          ...(options.clusterId === undefined ? {} : { clusterId: options.clusterId }),
        });
        await options.register?.({ nodeId, role, certPem, remoteAddress: ctx.remoteAddress });
        if (requested !== undefined && `swarm-${requested}` !== role) {
          logger.info('join: the token decides the role, not the request', { nodeId, role, requested });
        }
        logger.info('join: node joined', { nodeId, role, peer: ctx.remoteAddress });
        return { nodeId, role, certPem, caCertPem: options.ca.certPem };
      },
    },
  };
}

/** A bootstrap server that serves only the join service. */
export function createJoinServer(options: JoinServerOptions): RpcServer {
  const { serverCredentials, ca, tokens, clusterId, register, newNodeId: makeId, ...transport } = options;
  return RpcServer.bootstrap({
    ...transport,
    credentials: serverCredentials,
    handlers: joinHandlers({
      ca,
      tokens,
      ...(clusterId === undefined ? {} : { clusterId }),
      ...(register === undefined ? {} : { register }),
      ...(makeId === undefined ? {} : { newNodeId: makeId }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    }),
    hello: () => ({ caCertPem: ca.certPem }),
  });
}

export interface JoinOptions {
  /** A manager's bootstrap address, host:port. */
  readonly address: string;
  /** The join token (a secret). */
  readonly token: string;
  /** The node's key and CSR; made here when absent. */
  readonly key?: NodeKeyAndCsr;
  readonly requestedRole?: TokenRole;
  readonly timeoutMs?: number;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

export interface JoinResult {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly certPem: string;
  /** Secret: write it with writeSecretFile. */
  readonly keyPem: string;
  readonly caCertPem: string;
}

/** Joins a swarm: returns this node's identity, certificate, key and the pinned CA certificate. */
export async function joinCluster(options: JoinOptions): Promise<JoinResult> {
  const token = parseJoinToken(options.token);
  const now = options.now ?? (() => new Date());
  let pinnedCa: string | null = null;
  const connection = await connectBootstrap(options.address, {
    ...(options.timeoutMs === undefined ? {} : { connectTimeoutMs: options.timeoutMs, requestTimeoutMs: options.timeoutMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    verify: ({ hello, peerCertificate }) => {
      const parsed = Hello.safeParse(hello);
      if (!parsed.success) throw skepError('PROTOCOL_ERROR', 'the server did not present a CA certificate');
      const caCertPem = parsed.data.caCertPem;
      let digest: string;
      try {
        digest = caDigest(caCertPem);
      } catch {
        throw skepError('CA_DIGEST_MISMATCH', caDigestHex(token.caDigest));
      }
      if (digest !== token.caDigest) throw skepError('CA_DIGEST_MISMATCH', caDigestHex(token.caDigest));
      verifyServerCertificate(peerCertificate, caCertPem, now());
      pinnedCa = caCertPem;
    },
  }).catch(async (error: unknown) => {
    throw await describeJoinFailure(options.address, error, options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  });
  try {
    const ca = pinnedCa as string | null;
    if (ca === null) throw skepError('INTERNAL', 'the CA was not pinned');
    const key = options.key ?? (await createNodeKeyAndCsr());
    const reply = await connection.request(JOIN_METHOD, {
      secret: token.secret,
      csrPem: key.csrPem,
      ...(options.requestedRole === undefined ? {} : { role: options.requestedRole }),
    });
    const parsed = JoinResponse.safeParse(reply);
    if (!parsed.success) throw skepError('PROTOCOL_ERROR', 'malformed join response');
    const { nodeId, role, certPem, caCertPem } = parsed.data;
    if (caCertPem !== ca) throw skepError('INVALID_CERTIFICATE', 'the manager answered with a different CA certificate');
    const info = verifyNodeCertificate(certPem, ca, now());
    if (info.nodeId !== nodeId || info.role !== role) throw skepError('INVALID_CERTIFICATE', 'it does not match the node ID and role we were given');
    if (!certificateMatchesKey(certPem, key.keyPem)) throw skepError('INVALID_CERTIFICATE', 'it is not for our key');
    return { nodeId, role: info.role, certPem, keyPem: key.keyPem, caCertPem: ca };
  } finally {
    connection.close();
  }
}

/** The bootstrap server must hold a manager certificate from the pinned CA, valid now. */
function verifyServerCertificate(peer: X509Certificate, caCertPem: string, now: Date): void {
  try {
    const info = verifyNodeCertificate(peer.toString(), caCertPem, now);
    if (info.role !== 'swarm-manager') throw skepError('INVALID_CERTIFICATE', 'the server is not a swarm manager');
  } catch (error) {
    if (error instanceof SkepError) throw error;
    throw skepError('INVALID_CERTIFICATE', error instanceof Error ? error.message : String(error));
  }
}

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SkepError } from '../../../shared/errors.js';
import { RpcServer, ConnectionPool, type NodeRole } from '../../../electron/net/index.js';
import {
  JoinTokens,
  createJoinServer,
  createNodeKeyAndCsr,
  createRootCA,
  generateJoinToken,
  issueNodeCertificate,
  joinCluster,
  newNodeId,
  parseJoinToken,
  verifyNodeCertificate,
  type CertificateAuthority,
  type JoinSecretMatcher,
  type RegisteredNode,
} from '../../../electron/swarm/ca/index.js';

let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let manager: { certPem: string; keyPem: string; nodeId: string };

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([createRootCA(), createRootCA()]);
  manager = await credentialsFrom(ca, 'swarm-manager');
});

async function credentialsFrom(authority: CertificateAuthority, role: NodeRole): Promise<{ certPem: string; keyPem: string; nodeId: string }> {
  const key = await createNodeKeyAndCsr();
  const nodeId = newNodeId();
  return { certPem: await issueNodeCertificate(authority, key.csrPem, { nodeId, role }), keyPem: key.keyPem, nodeId };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Records every secret the server is asked about, and every node it registers. */
class Spy implements JoinSecretMatcher {
  readonly seen: string[] = [];
  readonly registered: RegisteredNode[] = [];
  constructor(readonly tokens: JoinTokens) {}
  match(secret: string): NodeRole | null {
    this.seen.push(secret);
    return this.tokens.match(secret);
  }
}

async function startJoinServer(options: { authority?: CertificateAuthority; serverCredentials?: { certPem: string; keyPem: string } } = {}) {
  const authority = options.authority ?? ca;
  const tokens = new JoinTokens(authority.certPem);
  const spy = new Spy(tokens);
  const server = createJoinServer({
    ca: authority,
    tokens: spy,
    serverCredentials: options.serverCredentials ?? manager,
    register: (node) => {
      spy.registered.push(node);
    },
    handshakeTimeoutMs: 2_000,
  });
  const { address } = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  return { server, tokens, spy, address };
}

async function joinError(p: Promise<unknown>): Promise<SkepError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(SkepError);
    return error as SkepError;
  }
  throw new Error('expected the join to fail');
}

describe('join bootstrap', () => {
  it('issues a worker certificate for the worker token and a manager one for the manager token', async () => {
    const { tokens, spy, address } = await startJoinServer();
    const worker = await joinCluster({ address, token: tokens.token('worker') });
    expect(worker.role).toBe('swarm-worker');
    expect(worker.caCertPem).toBe(ca.certPem);
    expect(verifyNodeCertificate(worker.certPem, ca.certPem)).toMatchObject({ nodeId: worker.nodeId, role: 'swarm-worker' });
    expect(worker.keyPem).toMatch(/BEGIN PRIVATE KEY/);

    // The token decides the role; asking for another changes nothing.
    const mgr = await joinCluster({ address, token: tokens.token('manager'), requestedRole: 'worker' });
    expect(mgr.role).toBe('swarm-manager');
    expect(mgr.nodeId).not.toBe(worker.nodeId);
    expect(spy.registered.map((n) => [n.nodeId, n.role])).toEqual([[worker.nodeId, 'swarm-worker'], [mgr.nodeId, 'swarm-manager']]);
  });

  it('gives a certificate that works for mutual TLS', async () => {
    const { tokens, address } = await startJoinServer();
    const joined = await joinCluster({ address, token: tokens.token('worker') });
    const rpc = RpcServer.mutual({
      credentials: { ...manager, caPem: ca.certPem },
      handlers: { requests: { whoami: (_b, ctx) => ctx.peer } },
    });
    const { address: rpcAddress } = await rpc.listen(0, '127.0.0.1');
    cleanups.push(() => rpc.close());
    const pool = new ConnectionPool({ credentials: { certPem: joined.certPem, keyPem: joined.keyPem, caPem: joined.caCertPem } });
    cleanups.push(() => pool.close());
    expect(await pool.request({ address: rpcAddress, nodeId: manager.nodeId }, 'whoami')).toEqual({ nodeId: joined.nodeId, role: 'swarm-worker' });
  });

  it('refuses a token whose CA digest does not match before sending the secret', async () => {
    const { server, spy, address } = await startJoinServer();
    // A well-formed token for another swarm: the server presents a CA that does not match it.
    const foreign = generateJoinToken(otherCa.certPem);
    const e = await joinError(joinCluster({ address, token: foreign }));
    expect(e.code).toBe('CA_DIGEST_MISMATCH');
    expect(e.message).toMatch(/^remote CA does not match fingerprint\. Expected: [0-9a-f]{64}$/);
    expect(e.message).not.toContain(parseJoinToken(foreign).secret);
    // The server accepted the TLS connection, but was never asked about any secret.
    expect(server.stats.accepted).toBe(1);
    expect(spy.seen).toEqual([]);
    expect(spy.registered).toEqual([]);
  });

  it('refuses a server whose TLS certificate was not issued by the pinned CA', async () => {
    // A man in the middle that relays the real CA certificate but holds a key of its own.
    const impostor = await credentialsFrom(otherCa, 'swarm-manager');
    const { spy, tokens, address } = await startJoinServer({ serverCredentials: impostor });
    const e = await joinError(joinCluster({ address, token: tokens.token('worker') }));
    expect(e.code).toBe('INVALID_CERTIFICATE');
    expect(spy.seen).toEqual([]);
  });

  it('refuses a bootstrap server that is not a manager', async () => {
    const worker = await credentialsFrom(ca, 'swarm-worker');
    const { spy, tokens, address } = await startJoinServer({ serverCredentials: worker });
    expect((await joinError(joinCluster({ address, token: tokens.token('worker') }))).code).toBe('INVALID_CERTIFICATE');
    expect(spy.seen).toEqual([]);
  });

  it('refuses a wrong or rotated secret with Swarm\'s words', async () => {
    const { tokens, spy, address } = await startJoinServer();
    const old = tokens.token('worker');
    tokens.rotate('worker');
    const e = await joinError(joinCluster({ address, token: old }));
    expect(e.code).toBe('JOIN_TOKEN_REJECTED');
    expect(e.message).toBe('A valid join token is necessary to join this cluster');
    expect(e.message).not.toContain(parseJoinToken(old).secret);
    expect(spy.seen).toHaveLength(1);
    expect(spy.registered).toEqual([]);
    // The new worker token and the untouched manager token both still work.
    expect((await joinCluster({ address, token: tokens.token('worker') })).role).toBe('swarm-worker');
    expect((await joinCluster({ address, token: tokens.token('manager') })).role).toBe('swarm-manager');
  });

  it('refuses a malformed token without connecting', async () => {
    const { server, address } = await startJoinServer();
    const e = await joinError(joinCluster({ address, token: 'SKEP-1-nope-not-a-token' }));
    expect(e.code).toBe('INVALID_JOIN_TOKEN');
    expect(e.message).not.toContain('nope');
    expect(server.stats.accepted).toBe(0);
  });

  it('uses a key made by the caller, so the private key never leaves the node', async () => {
    const { tokens, address } = await startJoinServer();
    const key = await createNodeKeyAndCsr();
    const joined = await joinCluster({ address, token: tokens.token('worker'), key });
    expect(joined.keyPem).toBe(key.keyPem);
  });
});

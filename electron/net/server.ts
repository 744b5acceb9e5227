// The listening side. Two modes:
//  - mutual (every node-to-node connection): the client must present a certificate signed by the
//    cluster CA; its CN/OU become the peer identity handlers see; revoked node IDs are cut off
//    right after the handshake, before any frame is read.
//  - bootstrap (join only): the server proves itself, the client is anonymous. Only the join
//    handlers may be mounted here; nothing else in the cluster is reachable without a certificate.
//
// Connection slots come from three separate budgets, so that nobody without a certificate can
// starve the nodes that have one:
//  - handshaking: TCP connections still in the TLS handshake (a deadline, and a small budget
//    where a newcomer evicts the oldest);
//  - anonymous: connections without a client certificate (joins) after the handshake: small
//    budget, oldest evicted, a total lifetime, small frames, few requests at a time;
//  - authenticated: a larger budget (newcomers refused when full, which needs that many
//    certificates), bounded per node ID too (a node's own oldest connection makes way: a node
//    reconnecting past a half-open connection must not lock itself out).

import type { AddressInfo, Socket } from 'node:net';
import * as tls from 'node:tls';
import { OldestFirstBudget } from './budget.js';
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_IN_FLIGHT_REQUESTS,
  DEFAULT_PAUSE_READING_ABOVE_BYTES,
  RpcConnection,
  connectionOptionsOf,
  errorText,
  type ConnectionOptions,
  type Handlers,
} from './connection.js';
import { DEFAULT_MAX_FRAME_BYTES } from './frame.js';
import { identityFromPeerCertificate, type PeerIdentity } from './identity.js';
import { noopLogger, type Logger } from './logger.js';
import {
  TLS_MIN_VERSION,
  formatAddress,
  mutualContextOptions,
  type ServerOnlyCredentials,
  type TlsCredentials,
} from './tls.js';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_HANDSHAKING = 64;
export const DEFAULT_MAX_ANONYMOUS = 64;
/** A join is a HELLO, one request and its reply: seconds, even through a Raft commit on a Pi. */
export const DEFAULT_ANONYMOUS_LIFETIME_MS = 30_000;
/**
 * A join request is a token secret (25 characters), a P-256 CSR (under 1 KiB of PEM) and a role:
 * a few hundred bytes. 64 KiB leaves room for an RSA-4096 CSR and fields yet to come, while 64
 * anonymous connections can then hold at most 4 MiB of partial frames between them.
 */
export const DEFAULT_MAX_ANONYMOUS_FRAME_BYTES = 64 * 1024;
export const DEFAULT_MAX_ANONYMOUS_IN_FLIGHT_REQUESTS = 4;
/** Enough for a home lab's nodes with a few connections each, and inside the default 1,024 file descriptors. */
export const DEFAULT_MAX_AUTHENTICATED = 512;
export const DEFAULT_MAX_CONNECTIONS_PER_NODE = 8;

/** How many connections of each kind a server keeps (see the file's header). */
export interface ConnectionBudgets {
  /** TCP connections in the TLS handshake; a newcomer evicts the oldest when full. */
  readonly maxHandshaking?: number;
  /** A TCP connection that has not finished the TLS handshake by then is dropped. */
  readonly handshakeTimeoutMs?: number;
  /** Connections without a client certificate; a newcomer evicts the oldest when full. */
  readonly maxAnonymous?: number;
  /** An anonymous connection is closed this long after its handshake, however busy it is. */
  readonly anonymousLifetimeMs?: number;
  readonly maxAnonymousFrameBytes?: number;
  readonly maxAnonymousInFlightRequests?: number;
  /** Connections with a verified node certificate; newcomers are refused when full. */
  readonly maxAuthenticated?: number;
  /** Connections of one node ID; its oldest is dropped when it opens one more. */
  readonly maxConnectionsPerNode?: number;
}

interface CommonServerOptions extends ConnectionOptions, ConnectionBudgets {
  readonly handlers: Handlers;
  /** Extra body of the HELLO frame the server sends to every accepted connection. */
  readonly hello?: () => unknown;
  readonly logger?: Logger;
  /** Called for every accepted connection (for server-initiated requests). */
  readonly onConnection?: (connection: RpcConnection) => void;
}

export interface MutualServerOptions extends CommonServerOptions {
  readonly credentials: TlsCredentials;
  /** Consulted at every connection; true refuses the node (a removed node keeps a valid certificate). */
  readonly isRevoked?: (nodeId: string) => boolean;
}

export interface BootstrapServerOptions extends CommonServerOptions {
  readonly credentials: ServerOnlyCredentials;
}

/**
 * One port for both: nodes with a certificate get the cluster handlers (mutual TLS, as `mutual`);
 * a client that presents no certificate gets only the join handlers (as `bootstrap`). A client
 * that presents a certificate the CA did not sign is refused. Swarm serves joins and cluster
 * traffic on one port (2377) too, so `skep swarm join ADDR:PORT` names the same address.
 */
export interface CombinedServerOptions extends MutualServerOptions {
  readonly bootstrapHandlers: Handlers;
}

export interface ServerStats {
  accepted: number;
  /** Closed right after the handshake: certificate unverified or revoked, or no slot left. */
  refused: number;
  /** Handshakes that failed or ran out of time. */
  handshakeFailures: number;
  /** TCP connections dropped while in the handshake, to make room for a newer one. */
  evictedHandshaking: number;
  /** Anonymous connections dropped to make room for a newer one. */
  evictedAnonymous: number;
  /** Anonymous connections closed at the end of their lifetime. */
  expiredAnonymous: number;
  /** A node's oldest connections dropped when it opened more than its per-node budget. */
  evictedPerNode: number;
  /** Authenticated connections refused because the authenticated budget was full (also in refused). */
  refusedOverBudget: number;
}

interface Limits {
  readonly maxAuthenticated: number;
  readonly maxConnectionsPerNode: number;
  readonly anonymousLifetimeMs: number;
  readonly anonymousConnection: ConnectionOptions;
}

/** Identifies a TCP connection on this listener, the same for the raw socket and its TLS socket. */
function socketKey(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}|${socket.remotePort ?? '?'}|${socket.localAddress ?? '?'}|${socket.localPort ?? '?'}`;
}

export class RpcServer {
  private readonly server: tls.Server;
  private readonly live = new Set<RpcConnection>();
  private readonly sockets = new Set<Socket>();
  private readonly handshaking: OldestFirstBudget<Socket>;
  /** Raw sockets in the handshake by socketKey, to find the one a TLS socket came from. */
  private readonly handshakingByKey = new Map<string, Socket>();
  private readonly anonymous: OldestFirstBudget<RpcConnection>;
  private readonly authenticated = new Set<RpcConnection>();
  private readonly byNode = new Map<string, OldestFirstBudget<RpcConnection>>();
  private readonly limits: Limits;
  private readonly logger: Logger;
  readonly stats: ServerStats = {
    accepted: 0,
    refused: 0,
    handshakeFailures: 0,
    evictedHandshaking: 0,
    evictedAnonymous: 0,
    expiredAnonymous: 0,
    evictedPerNode: 0,
    refusedOverBudget: 0,
  };

  private constructor(
    private readonly mode: 'mutual' | 'bootstrap' | 'combined',
    private readonly options: MutualServerOptions | BootstrapServerOptions | CombinedServerOptions,
    tlsOptions: tls.TlsOptions,
  ) {
    this.logger = options.logger ?? noopLogger;
    this.handshaking = new OldestFirstBudget(options.maxHandshaking ?? DEFAULT_MAX_HANDSHAKING);
    this.anonymous = new OldestFirstBudget(options.maxAnonymous ?? DEFAULT_MAX_ANONYMOUS);
    const maxAnonymousFrameBytes = options.maxAnonymousFrameBytes ?? DEFAULT_MAX_ANONYMOUS_FRAME_BYTES;
    this.limits = {
      maxAuthenticated: options.maxAuthenticated ?? DEFAULT_MAX_AUTHENTICATED,
      maxConnectionsPerNode: options.maxConnectionsPerNode ?? DEFAULT_MAX_CONNECTIONS_PER_NODE,
      anonymousLifetimeMs: options.anonymousLifetimeMs ?? DEFAULT_ANONYMOUS_LIFETIME_MS,
      anonymousConnection: {
        maxFrameBytes: Math.min(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, maxAnonymousFrameBytes),
        maxInFlightRequests: Math.min(options.maxInFlightRequests ?? DEFAULT_MAX_IN_FLIGHT_REQUESTS, options.maxAnonymousInFlightRequests ?? DEFAULT_MAX_ANONYMOUS_IN_FLIGHT_REQUESTS),
        // Replies to a join are a few KiB: one frame's worth unsent is already a peer not reading.
        pauseReadingAboveBytes: Math.min(options.pauseReadingAboveBytes ?? DEFAULT_PAUSE_READING_ABOVE_BYTES, maxAnonymousFrameBytes),
        maxBufferedBytes: Math.min(options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES, 8 * maxAnonymousFrameBytes),
      },
    };
    this.server = tls.createServer({
      ...tlsOptions,
      minVersion: TLS_MIN_VERSION,
      handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    });
    this.server.on('connection', (socket: Socket) => this.admitTcp(socket));
    this.server.on('secureConnection', (socket: tls.TLSSocket) => {
      this.leaveHandshake(socket);
      this.accept(socket);
    });
    this.server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
      this.leaveHandshake(socket);
      this.stats.handshakeFailures++;
      this.logger.debug('net: TLS handshake failed', { peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, error: error.message });
      socket.destroy();
    });
    this.server.on('error', (error: Error) => this.logger.error('net: server error', { error: error.message }));
  }

  /** Mutual TLS against the cluster CA. */
  static mutual(options: MutualServerOptions): RpcServer {
    return new RpcServer('mutual', options, {
      ...mutualContextOptions(options.credentials),
      requestCert: true,
      rejectUnauthorized: true,
    });
  }

  /** Mutual TLS for nodes and the join bootstrap for newcomers, on one port (see CombinedServerOptions). */
  static combined(options: CombinedServerOptions): RpcServer {
    return new RpcServer('combined', options, {
      ...mutualContextOptions(options.credentials),
      requestCert: true,
      // Checked per connection in accept(): an unverified certificate is refused there.
      rejectUnauthorized: false,
    });
  }

  /** Server-authenticated TLS for the join bootstrap: no client certificate is asked for. */
  static bootstrap(options: BootstrapServerOptions): RpcServer {
    return new RpcServer('bootstrap', options, {
      cert: options.credentials.certPem,
      key: options.credentials.keyPem,
      requestCert: false,
      rejectUnauthorized: false,
    });
  }

  listen(port: number, host: string): Promise<{ host: string; port: number; address: string }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const a = this.server.address() as AddressInfo;
        resolve({ host: a.address, port: a.port, address: formatAddress(a.address, a.port) });
      });
    });
  }

  /** Renewed certificate or key: new handshakes use them at once, live connections are kept. */
  setCredentials(credentials: TlsCredentials | ServerOnlyCredentials): void {
    if (this.mode === 'mutual' || this.mode === 'combined') {
      if (!('caPem' in credentials)) throw new TypeError('a mutual TLS server needs caPem');
      this.server.setSecureContext(mutualContextOptions(credentials));
    } else {
      this.server.setSecureContext({ cert: credentials.certPem, key: credentials.keyPem, minVersion: TLS_MIN_VERSION });
    }
  }

  connections(): RpcConnection[] {
    return [...this.live];
  }

  /** How many connections each budget holds now. */
  occupancy(): { handshaking: number; anonymous: number; authenticated: number } {
    return { handshaking: this.handshaking.size, anonymous: this.anonymous.size, authenticated: this.authenticated.size };
  }

  /** Drops every live connection of a node (after it was removed from the swarm). */
  disconnectNode(nodeId: string): void {
    for (const c of this.live) if (c.peer?.nodeId === nodeId) c.destroy();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.live) c.destroy();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private admitTcp(socket: Socket): void {
    // Tracked from the first byte so close() also ends connections stuck in the handshake.
    this.sockets.add(socket);
    // A reset before the TLS layer takes over must not become an unhandled 'error'.
    socket.on('error', () => {});
    const key = socketKey(socket);
    this.handshakingByKey.set(key, socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.handshaking.release(socket);
      if (this.handshakingByKey.get(key) === socket) this.handshakingByKey.delete(key);
    });
    for (const oldest of this.handshaking.admit(socket)) {
      this.stats.evictedHandshaking++;
      this.handshakingByKey.delete(socketKey(oldest));
      oldest.destroy();
    }
  }

  private leaveHandshake(socket: tls.TLSSocket): void {
    const key = socketKey(socket);
    const raw = this.handshakingByKey.get(key);
    if (raw === undefined) return;
    this.handshakingByKey.delete(key);
    this.handshaking.release(raw);
  }

  private accept(socket: tls.TLSSocket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    let peer: PeerIdentity | null = null;
    let handlers = this.options.handlers;
    const presentedNoCertificate = (): boolean => Object.keys(socket.getPeerCertificate() ?? {}).length === 0;
    if (this.mode === 'combined' && !socket.authorized && presentedNoCertificate()) {
      handlers = (this.options as CombinedServerOptions).bootstrapHandlers;
    } else if (this.mode === 'mutual' || this.mode === 'combined') {
      // rejectUnauthorized already refused unverified chains; this guards against a misconfiguration.
      if (!socket.authorized) return this.refuse(socket, remote, 'certificate not verified');
      peer = identityFromPeerCertificate(socket.getPeerCertificate());
      if (peer === null) return this.refuse(socket, remote, 'certificate without a node identity');
      const isRevoked = (this.options as MutualServerOptions).isRevoked;
      let revoked = false;
      try {
        revoked = isRevoked?.(peer.nodeId) ?? false;
      } catch (error) {
        // Fail closed: when we cannot tell, we do not let the node in.
        this.logger.error('net: isRevoked failed', { nodeId: peer.nodeId, error: errorText(error) });
        revoked = true;
      }
      if (revoked) return this.refuse(socket, remote, 'node certificate revoked', peer.nodeId);
    }
    if (peer !== null && this.authenticated.size >= this.limits.maxAuthenticated && (this.byNode.get(peer.nodeId)?.size ?? 0) < this.limits.maxConnectionsPerNode) {
      this.stats.refusedOverBudget++;
      return this.refuse(socket, remote, `no connection slot left (${this.limits.maxAuthenticated} authenticated connections)`, peer.nodeId);
    }
    const options = peer === null
      ? { ...connectionOptionsOf(this.options, this.logger), ...this.limits.anonymousConnection }
      : connectionOptionsOf(this.options, this.logger);
    const connection = new RpcConnection(socket, 'server', peer, handlers, options);
    this.live.add(connection);
    connection.onClose(() => this.live.delete(connection));
    if (peer === null) this.admitAnonymous(connection);
    else this.admitAuthenticated(connection, peer.nodeId);
    this.stats.accepted++;
    let hello: unknown = {};
    try {
      hello = this.options.hello?.() ?? {};
    } catch (error) {
      this.logger.error('net: hello provider failed', { error: errorText(error) });
      connection.destroy();
      return;
    }
    connection.sendHello({ v: 1, ...(typeof hello === 'object' && hello !== null ? hello : {}) });
    this.options.onConnection?.(connection);
  }

  private admitAnonymous(connection: RpcConnection): void {
    const lifetime = setTimeout(() => {
      this.stats.expiredAnonymous++;
      this.logger.debug('net: anonymous connection reached its lifetime', { peer: connection.remoteAddress });
      connection.destroy();
    }, this.limits.anonymousLifetimeMs);
    lifetime.unref();
    connection.onClose(() => {
      clearTimeout(lifetime);
      this.anonymous.release(connection);
    });
    for (const oldest of this.anonymous.admit(connection)) {
      this.stats.evictedAnonymous++;
      oldest.destroy();
    }
  }

  private admitAuthenticated(connection: RpcConnection, nodeId: string): void {
    const ofNode = this.nodeConnections(nodeId);
    this.authenticated.add(connection);
    connection.onClose(() => {
      this.authenticated.delete(connection);
      ofNode.release(connection);
      if (ofNode.size === 0 && this.byNode.get(nodeId) === ofNode) this.byNode.delete(nodeId);
    });
    for (const oldest of ofNode.admit(connection)) {
      this.stats.evictedPerNode++;
      this.logger.debug('net: a node opened more connections than its budget; its oldest goes', { nodeId, peer: oldest.remoteAddress });
      oldest.destroy();
    }
  }

  private nodeConnections(nodeId: string): OldestFirstBudget<RpcConnection> {
    let ofNode = this.byNode.get(nodeId);
    if (ofNode === undefined) {
      ofNode = new OldestFirstBudget(this.limits.maxConnectionsPerNode);
      this.byNode.set(nodeId, ofNode);
    }
    return ofNode;
  }

  private refuse(socket: tls.TLSSocket, remote: string, reason: string, nodeId?: string): void {
    this.stats.refused++;
    this.logger.warn('net: connection refused', { peer: remote, reason, ...(nodeId === undefined ? {} : { nodeId }) });
    socket.destroy();
  }
}

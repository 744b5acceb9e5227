// The listening side. Two modes:
//  - mutual (every node-to-node connection): the client must present a certificate signed by the
//    cluster CA; its CN/OU become the peer identity handlers see; revoked node IDs are cut off
//    right after the handshake, before any frame is read.
//  - bootstrap (join only): the server proves itself, the client is anonymous. Only the join
//    handlers may be mounted here; nothing else in the cluster is reachable without a certificate.

import type { AddressInfo, Socket } from 'node:net';
import * as tls from 'node:tls';
import {
  RpcConnection,
  connectionOptionsOf,
  errorText,
  type ConnectionOptions,
  type Handlers,
} from './connection.js';
import { identityFromPeerCertificate, type PeerIdentity } from './identity.js';
import { noopLogger, type Logger } from './logger.js';
import {
  TLS_MIN_VERSION,
  formatAddress,
  mutualContextOptions,
  type ServerOnlyCredentials,
  type TlsCredentials,
} from './tls.js';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_CONNECTIONS = 1024;

interface CommonServerOptions extends ConnectionOptions {
  readonly handlers: Handlers;
  /** A TCP connection that has not finished the TLS handshake by then is dropped. */
  readonly handshakeTimeoutMs?: number;
  readonly maxConnections?: number;
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
  refused: number;
  handshakeFailures: number;
}

export class RpcServer {
  private readonly server: tls.Server;
  private readonly live = new Set<RpcConnection>();
  private readonly sockets = new Set<Socket>();
  private readonly logger: Logger;
  readonly stats: ServerStats = { accepted: 0, refused: 0, handshakeFailures: 0 };

  private constructor(
    private readonly mode: 'mutual' | 'bootstrap' | 'combined',
    private readonly options: MutualServerOptions | BootstrapServerOptions | CombinedServerOptions,
    tlsOptions: tls.TlsOptions,
  ) {
    this.logger = options.logger ?? noopLogger;
    this.server = tls.createServer({
      ...tlsOptions,
      minVersion: TLS_MIN_VERSION,
      handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    });
    this.server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.server.on('connection', (socket: Socket) => {
      // Tracked from the first byte so close() also ends connections stuck in the handshake.
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      // A reset before the TLS layer takes over must not become an unhandled 'error'.
      socket.on('error', () => {});
    });
    this.server.on('secureConnection', (socket: tls.TLSSocket) => this.accept(socket));
    this.server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
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
    const connection = new RpcConnection(socket, 'server', peer, handlers, connectionOptionsOf(this.options, this.logger));
    this.live.add(connection);
    connection.onClose(() => this.live.delete(connection));
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

  private refuse(socket: tls.TLSSocket, remote: string, reason: string, nodeId?: string): void {
    this.stats.refused++;
    this.logger.warn('net: connection refused', { peer: remote, reason, ...(nodeId === undefined ? {} : { nodeId }) });
    socket.destroy();
  }
}

// The dialing side: a pool of mutually authenticated connections, one per peer, reconnected on
// demand with exponential backoff; and a one-shot anonymous connection for the join bootstrap.

import type { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { SkepError, skepError } from '../../shared/errors.js';
import {
  RpcConnection,
  connectionOptionsOf,
  errorText,
  type ConnectionOptions,
  type Handlers,
  type RequestOptions,
} from './connection.js';
import { identityFromPeerCertificate, nodeIdentityCheck, type NodeRole } from './identity.js';
import { noopLogger, type Logger } from './logger.js';
import { DEFAULT_MAX_ANONYMOUS_FRAME_BYTES } from './server.js';
import { TLS_MIN_VERSION, createMutualContext, parseAddress, type TlsCredentials } from './tls.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Whom to dial. nodeId/role, when given, must match the certificate the peer presents. */
export interface PeerRef {
  readonly address: string;
  readonly nodeId?: string;
  readonly role?: NodeRole;
}

export interface DisconnectEvent {
  readonly peer: PeerRef;
  /** False when the connection attempt itself failed. */
  readonly wasConnected: boolean;
  readonly error: SkepError | undefined;
}

export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
}

export interface PoolOptions extends ConnectionOptions {
  readonly credentials: TlsCredentials;
  /** Handlers for requests and notifications the peers send back over our connections. */
  readonly handlers?: Handlers;
  readonly connectTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
  /** One-way messages held per peer while its connection is being set up; more are dropped. */
  readonly maxQueuedWhileConnecting?: number;
  /** A removed manager keeps a valid certificate: refuse to talk to it as a server, too. */
  readonly isRevoked?: (nodeId: string) => boolean;
  readonly logger?: Logger;
}

interface PeerState {
  readonly ref: PeerRef;
  connection: RpcConnection | null;
  connecting: Promise<RpcConnection> | null;
  queue: { method: string; body: unknown }[];
  failures: number;
  retryAt: number;
}

function peerKey(ref: PeerRef): string {
  return `${ref.address}|${ref.nodeId ?? ''}|${ref.role ?? ''}`;
}

export class ConnectionPool {
  private context: tls.SecureContext;
  private readonly peers = new Map<string, PeerState>();
  private readonly listeners = new Set<(event: DisconnectEvent) => void>();
  private readonly logger: Logger;
  private readonly connectTimeoutMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxQueued: number;
  private closed = false;
  /** Connections closed on purpose by setCredentials. */
  private readonly retired = new Set<RpcConnection>();

  constructor(private readonly options: PoolOptions) {
    this.context = createMutualContext(options.credentials);
    this.logger = options.logger ?? noopLogger;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.initialBackoffMs = options.backoff?.initialMs ?? 100;
    this.maxBackoffMs = options.backoff?.maxMs ?? 5_000;
    this.maxQueued = options.maxQueuedWhileConnecting ?? 1024;
  }

  /**
   * Renewed certificate (or CA bundle): every new connection uses it. Live connections were
   * authenticated at their handshake and stay up unless closeExisting is set.
   */
  setCredentials(credentials: TlsCredentials, options: { closeExisting?: boolean } = {}): void {
    this.context = createMutualContext(credentials);
    if (options.closeExisting !== true) return;
    for (const p of this.peers.values()) {
      const connection = p.connection;
      if (!connection) continue;
      // Closed on purpose, not lost: listeners (Raft's fast failover) must not hear of it.
      p.connection = null;
      this.retired.add(connection);
      connection.close();
    }
  }

  /** Raft uses a reset connection as a fast failure signal. Returns an unsubscribe function. */
  onDisconnect(listener: (event: DisconnectEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async request<T = unknown>(peer: PeerRef, method: string, body?: unknown, options?: RequestOptions): Promise<T> {
    const connection = await this.connect(peer);
    return connection.request<T>(method, body, options);
  }

  /**
   * One-way message. Never waits: it is written now, queued while a connection is being set up,
   * or dropped (false) when the peer is in backoff or its buffers are full.
   */
  notify(peer: PeerRef, method: string, body?: unknown): boolean {
    if (this.closed) return false;
    const state = this.state(peer);
    if (state.connection?.isOpen === true) return state.connection.notify(method, body);
    if (state.connecting === null && Date.now() < state.retryAt) return false;
    if (state.queue.length >= this.maxQueued) return false;
    state.queue.push({ method, body });
    if (state.connecting === null) this.connect(peer).catch(() => {});
    return true;
  }

  /** The live connection to a peer, dialing it if needed. Fails fast while the peer is in backoff. */
  connect(peer: PeerRef): Promise<RpcConnection> {
    if (this.closed) return Promise.reject(skepError('CONNECTION_CLOSED', peer.address));
    const state = this.state(peer);
    if (state.connection?.isOpen === true) return Promise.resolve(state.connection);
    if (state.connecting !== null) return state.connecting;
    const wait = state.retryAt - Date.now();
    if (wait > 0) {
      return Promise.reject(skepError('PEER_UNREACHABLE', peer.address, `retrying in ${wait} ms`));
    }
    state.connecting = this.dial(state).finally(() => {
      state.connecting = null;
    });
    return state.connecting;
  }

  /** Closes the connection to one peer and forgets its backoff. */
  disconnect(peer: PeerRef): void {
    const key = peerKey(peer);
    const state = this.peers.get(key);
    this.peers.delete(key);
    state?.connection?.close();
  }

  close(): void {
    this.closed = true;
    for (const state of this.peers.values()) state.connection?.destroy();
    this.peers.clear();
    this.listeners.clear();
  }

  private state(peer: PeerRef): PeerState {
    const key = peerKey(peer);
    let state = this.peers.get(key);
    if (state === undefined) {
      state = { ref: { ...peer }, connection: null, connecting: null, queue: [], failures: 0, retryAt: 0 };
      this.peers.set(key, state);
    }
    return state;
  }

  private async dial(state: PeerState): Promise<RpcConnection> {
    const ref = state.ref;
    let connection: RpcConnection;
    try {
      const { host, port } = parseAddress(ref.address);
      const socket = await openTls({
        host,
        port,
        secureContext: this.context,
        // SNI must be a hostname; the node ID is one, and carries no secret.
        ...(ref.nodeId === undefined ? {} : { servername: ref.nodeId }),
        rejectUnauthorized: true,
        checkServerIdentity: nodeIdentityCheck({ nodeId: ref.nodeId, role: ref.role }),
      }, this.connectTimeoutMs, ref.address);
      const identity = identityFromPeerCertificate(socket.getPeerCertificate());
      if (identity === null) {
        socket.destroy();
        throw skepError('PEER_UNREACHABLE', ref.address, 'the peer\'s certificate names no node');
      }
      if (this.isRevoked(identity.nodeId)) {
        socket.destroy();
        throw skepError('PEER_UNREACHABLE', ref.address, `node ${identity.nodeId} has been removed from the swarm`);
      }
      connection = new RpcConnection(socket, 'client', identity, this.options.handlers ?? {}, connectionOptionsOf(this.options, this.logger));
      await withTimeout(connection.hello, this.connectTimeoutMs, () => connection.destroy(), ref.address);
    } catch (error) {
      const e = connectError(ref.address, error);
      state.failures++;
      const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(state.failures - 1, 20));
      // Jitter keeps a restarted manager from being dialed by every peer in the same millisecond.
      state.retryAt = Date.now() + Math.round(base * (0.8 + Math.random() * 0.4));
      state.queue = [];
      this.logger.debug('net: connect failed', { peer: ref.address, nodeId: ref.nodeId, error: e.message });
      if (!this.closed) this.emit({ peer: ref, wasConnected: false, error: e });
      throw e;
    }
    if (this.closed) {
      connection.destroy();
      throw skepError('CONNECTION_CLOSED', ref.address);
    }
    state.failures = 0;
    state.retryAt = 0;
    state.connection = connection;
    connection.onClose((error) => {
      if (state.connection === connection) state.connection = null;
      if (!this.closed && !this.retired.delete(connection)) this.emit({ peer: ref, wasConnected: true, error });
    });
    const queued = state.queue;
    state.queue = [];
    for (const m of queued) connection.notify(m.method, m.body);
    return connection;
  }

  private isRevoked(nodeId: string): boolean {
    try {
      return this.options.isRevoked?.(nodeId) ?? false;
    } catch (error) {
      this.logger.error('net: isRevoked failed', { nodeId, error: errorText(error) });
      return true;
    }
  }

  private emit(event: DisconnectEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn('net: disconnect listener failed', { error: errorText(error) });
      }
    }
  }
}

export interface BootstrapVerification {
  /** The server's leaf certificate, as presented in the TLS handshake (not yet trusted). */
  readonly peerCertificate: X509Certificate;
  /** The HELLO body the server sent. */
  readonly hello: unknown;
}

export interface BootstrapConnectOptions extends ConnectionOptions {
  /**
   * Decides whether the server is the one we meant, from what it presented, before the caller
   * sends anything. Throw to refuse: the connection is closed and the error propagates.
   */
  readonly verify: (presented: BootstrapVerification) => void | Promise<void>;
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
}

/**
 * An anonymous connection to a bootstrap server. TLS encrypts but does not authenticate here:
 * the caller's verify() does, by pinning what the server presents (the CA digest of a join token).
 * Until then the server is a stranger, so its frames get the small anonymous limit by default.
 */
export async function connectBootstrap(address: string, options: BootstrapConnectOptions): Promise<RpcConnection> {
  const { host, port } = parseAddress(address);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let socket: tls.TLSSocket;
  try {
    socket = await openTls({ host, port, minVersion: TLS_MIN_VERSION, rejectUnauthorized: false }, timeoutMs, address);
  } catch (error) {
    throw connectError(address, error);
  }
  const connection = new RpcConnection(socket, 'client', null, {}, {
    ...connectionOptionsOf(options, options.logger ?? noopLogger),
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_ANONYMOUS_FRAME_BYTES,
  });
  try {
    const hello = await withTimeout(connection.hello, timeoutMs, () => connection.destroy(), address);
    const peerCertificate = socket.getPeerX509Certificate();
    if (peerCertificate === undefined) throw skepError('INVALID_CERTIFICATE', 'the server presented no certificate');
    await options.verify({ peerCertificate, hello });
  } catch (error) {
    connection.destroy();
    throw connectError(address, error);
  }
  return connection;
}

function openTls(options: tls.ConnectionOptions, timeoutMs: number, address: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(options);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(skepError('PEER_UNREACHABLE', address, `no TLS handshake within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void, address: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(skepError('PEER_UNREACHABLE', address, `no answer within ${ms} ms`));
    }, ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function connectError(address: string, error: unknown): SkepError {
  if (error instanceof SkepError) {
    // A connection closed before HELLO means the server refused us after the handshake
    // (revoked, or our certificate rejected): say so in terms of the address we dialed.
    if (error.code === 'CONNECTION_CLOSED') return skepError('PEER_UNREACHABLE', address, 'the peer closed the connection');
    if (error.code === 'INTERNAL') return skepError('PEER_UNREACHABLE', address, error.message.replace(/^internal error: /, ''));
    return error;
  }
  return skepError('PEER_UNREACHABLE', address, errorText(error));
}


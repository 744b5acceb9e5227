// The dialing side: a pool of mutually authenticated connections, one per peer, reconnected on
// demand with exponential backoff; and a one-shot anonymous connection for the join bootstrap.

import type { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { SkepError, skepError } from '../../shared/errors.js';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_MS,
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
  /**
   * The connection ended because the peer fell silent (idle timeout), not because it was reset or
   * closed: the peer's process may well be alive behind a broken path. Raft's fast failover reacts
   * to resets only and leaves silence to its own detector.
   */
  readonly silent: boolean;
}

/**
 * How closely the pool watches one peer (by node ID): Raft members are worth probing often and
 * redialing at once, so that a dead connection is noticed by keepalives rather than by TCP's
 * retransmission timers, and a healed path is used within a fraction of a second.
 */
export interface PeerPolicy {
  /** PING a connection that received nothing for this long. */
  readonly keepaliveMs: number;
  /** Give a connection up after this long without a byte from the peer. */
  readonly idleTimeoutMs: number;
  /** Upper bound of the reconnect backoff. */
  readonly maxBackoffMs: number;
  /**
   * A TCP connect that has not completed by then is abandoned and a fresh one sent: a SYN lost to a
   * cut cable is otherwise retransmitted by the kernel only after 1 s, then 3 s, then 7 s.
   */
  readonly connectAttemptMs: number;
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
  /** Abandons the dial in progress (its TCP connect), so that a fresh one can start at once. */
  abortDial: (() => void) | null;
  /** The peer was heard from while we could not reach it: the next dial goes without backoff. */
  woken: boolean;
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
  private readonly policies = new Map<string, PeerPolicy>();

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

  /** Watches one peer (by node ID) more closely than the pool's defaults, or (undefined) as before. */
  setPeerPolicy(nodeId: string, policy: PeerPolicy | undefined): void {
    if (policy === undefined) this.policies.delete(nodeId);
    else this.policies.set(nodeId, policy);
    const liveness = this.livenessFor(nodeId);
    for (const state of this.peers.values()) {
      if (state.ref.nodeId === nodeId) state.connection?.setLiveness(liveness);
    }
  }

  /**
   * When this pool last received anything (a reply, a PONG, a message) from the node, over any of
   * its open connections; undefined when none is open. A sign that the node's process runs and the
   * path to it works, independent of what the node's application layer is busy with.
   */
  lastHeardFrom(nodeId: string): number | undefined {
    let last: number | undefined;
    for (const state of this.peers.values()) {
      const connection = state.connection;
      if (state.ref.nodeId !== nodeId || connection === null || !connection.isOpen) continue;
      last = Math.max(last ?? 0, connection.lastReceivedMs);
    }
    return last;
  }

  /**
   * The node was just heard from by another way (it dialed us): a path to it works again. A dial to
   * it that is waiting out a backoff or an unanswered TCP connect starts over now, so that what we
   * have to send it (Raft's appends) resumes within a round trip of the heal.
   */
  wake(nodeId: string): void {
    if (this.closed) return;
    for (const state of this.peers.values()) {
      if (state.ref.nodeId !== nodeId || state.connection?.isOpen === true) continue;
      if (state.failures === 0 && state.connecting === null) continue;
      state.woken = true;
      state.retryAt = 0;
      if (state.abortDial !== null) {
        state.abortDial();
      } else if (state.connecting === null) {
        this.connect(state.ref).catch(() => {});
      }
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
      state = { ref: { ...peer }, connection: null, connecting: null, queue: [], failures: 0, retryAt: 0, abortDial: null, woken: false };
      this.peers.set(key, state);
    }
    return state;
  }

  private async dial(state: PeerState): Promise<RpcConnection> {
    const ref = state.ref;
    let connection: RpcConnection;
    try {
      const { host, port } = parseAddress(ref.address);
      const policy = ref.nodeId === undefined ? undefined : this.policies.get(ref.nodeId);
      const socket = await openTls({
        host,
        port,
        secureContext: this.context,
        // SNI must be a hostname; the node ID is one, and carries no secret.
        ...(ref.nodeId === undefined ? {} : { servername: ref.nodeId }),
        rejectUnauthorized: true,
        checkServerIdentity: nodeIdentityCheck({ nodeId: ref.nodeId, role: ref.role }),
      }, this.connectTimeoutMs, ref.address, {
        ...(policy ? { tcpConnectMs: policy.connectAttemptMs } : {}),
        onAbortable: (abort) => (state.abortDial = abort),
      });
      state.abortDial = null;
      const identity = identityFromPeerCertificate(socket.getPeerCertificate());
      if (identity === null) {
        socket.destroy();
        throw skepError('PEER_UNREACHABLE', ref.address, 'the peer\'s certificate names no node');
      }
      if (this.isRevoked(identity.nodeId)) {
        socket.destroy();
        throw skepError('PEER_UNREACHABLE', ref.address, `node ${identity.nodeId} has been removed from the swarm`);
      }
      connection = new RpcConnection(socket, 'client', identity, this.options.handlers ?? {}, {
        ...connectionOptionsOf(this.options, this.logger),
        ...(policy ? { keepaliveMs: policy.keepaliveMs, idleTimeoutMs: policy.idleTimeoutMs } : {}),
      });
      await withTimeout(connection.hello, this.connectTimeoutMs, () => connection.destroy(), ref.address);
    } catch (error) {
      state.abortDial = null;
      const e = connectError(ref.address, error);
      state.failures++;
      const maxBackoffMs = Math.min(this.maxBackoffMs, this.policyFor(ref)?.maxBackoffMs ?? Infinity);
      const base = Math.min(maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(state.failures - 1, 20));
      // Jitter keeps a restarted manager from being dialed by every peer in the same millisecond.
      state.retryAt = state.woken ? 0 : Date.now() + Math.round(base * (0.8 + Math.random() * 0.4));
      const redialNow = state.woken;
      state.woken = false;
      if (!redialNow) state.queue = [];
      this.logger.debug('net: connect failed', { peer: ref.address, nodeId: ref.nodeId, error: e.message });
      if (!this.closed) this.emit({ peer: ref, wasConnected: false, error: e, silent: false });
      // Woken while dialing: the peer just reached us, so try again at once, keeping what is queued.
      if (redialNow && !this.closed) setImmediate(() => void this.connect(ref).catch(() => {}));
      throw e;
    }
    if (this.closed) {
      connection.destroy();
      throw skepError('CONNECTION_CLOSED', ref.address);
    }
    state.failures = 0;
    state.retryAt = 0;
    state.woken = false;
    state.connection = connection;
    connection.onClose((error) => {
      if (state.connection === connection) state.connection = null;
      if (!this.closed && !this.retired.delete(connection)) this.emit({ peer: ref, wasConnected: true, error, silent: connection.endedBySilence });
    });
    const queued = state.queue;
    state.queue = [];
    for (const m of queued) connection.notify(m.method, m.body);
    return connection;
  }

  private policyFor(ref: PeerRef): PeerPolicy | undefined {
    return ref.nodeId === undefined ? undefined : this.policies.get(ref.nodeId);
  }

  private livenessFor(nodeId: string): { keepaliveMs: number; idleTimeoutMs: number } {
    const policy = this.policies.get(nodeId);
    if (policy) return { keepaliveMs: policy.keepaliveMs, idleTimeoutMs: policy.idleTimeoutMs };
    const idleTimeoutMs = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    return { keepaliveMs: this.options.keepaliveMs ?? Math.min(DEFAULT_KEEPALIVE_MS, Math.floor(idleTimeoutMs / 3)), idleTimeoutMs };
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

interface DialControl {
  /** Abandon a TCP connect that has not completed by then (the handshake keeps the whole timeout). */
  readonly tcpConnectMs?: number;
  /** Receives a function that abandons the dial while its TCP connect is still pending. */
  readonly onAbortable?: (abort: () => void) => void;
}

function openTls(options: tls.ConnectionOptions, timeoutMs: number, address: string, control: DialControl = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(options);
    const timers: NodeJS.Timeout[] = [];
    const fail = (error: Error): void => {
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      reject(error);
    };
    timers.push(setTimeout(() => fail(skepError('PEER_UNREACHABLE', address, `no TLS handshake within ${timeoutMs} ms`)), timeoutMs));
    let tcpConnected = false;
    if (control.tcpConnectMs !== undefined) {
      const ms = control.tcpConnectMs;
      timers.push(setTimeout(() => {
        if (!tcpConnected) fail(skepError('PEER_UNREACHABLE', address, `no TCP connection within ${ms} ms`));
      }, ms));
    }
    control.onAbortable?.(() => {
      if (!tcpConnected) fail(skepError('PEER_UNREACHABLE', address, 'dial abandoned for a fresh one'));
    });
    socket.once('connect', () => {
      tcpConnected = true;
    });
    socket.once('secureConnect', () => {
      for (const t of timers) clearTimeout(t);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (error: Error): void => fail(error);
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


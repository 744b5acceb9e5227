// One RPC connection over any stream socket (a TLS socket in practice). Symmetric: either side
// may send requests and one-way notifications. The server speaks first with a HELLO, so a client
// knows it was accepted (not refused after the TLS handshake, which TLS 1.3 makes invisible).

import type { Socket } from 'node:net';
import { SkepError, skepError, type ErrorEnvelope } from '../../shared/errors.js';
import { decodeMessage, encodeMessage, MessageKind, type Message } from './codec.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder } from './frame.js';
import type { PeerIdentity } from './identity.js';
import { noopLogger, type Logger } from './logger.js';

const PING_FRAME = encodeMessage({ kind: MessageKind.Ping }, DEFAULT_MAX_FRAME_BYTES);
const PONG_FRAME = encodeMessage({ kind: MessageKind.Pong }, DEFAULT_MAX_FRAME_BYTES);

export interface HandlerContext {
  /** The verified peer; null on the unauthenticated join bootstrap. */
  readonly peer: PeerIdentity | null;
  readonly remoteAddress: string;
  readonly connection: RpcConnection;
}

export type RequestHandler = (body: unknown, ctx: HandlerContext) => unknown;
export type NotifyHandler = (method: string, body: unknown, ctx: HandlerContext) => void;

export interface Handlers {
  /** Request handlers by method. A thrown SkepError travels back as its envelope. */
  readonly requests?: Readonly<Record<string, RequestHandler>>;
  /** One-way messages (Raft traffic). Must not throw; exceptions are logged and dropped. */
  readonly onNotify?: NotifyHandler;
}

export interface ConnectionOptions {
  readonly maxFrameBytes?: number;
  /** No bytes received for this long → the peer is gone (half-open TCP, stalled sender). */
  readonly idleTimeoutMs?: number;
  /**
   * Send a PING (answered by a PONG) when nothing was received for this long, so a quiet but
   * healthy peer is told apart from a dead one. Each side probes for itself, so the two ends need
   * not agree on timeouts.
   */
  readonly keepaliveMs?: number;
  readonly requestTimeoutMs?: number;
  /**
   * Queued-but-unsent bytes above which sends are refused (requests, notifications) or, for what
   * cannot be refused (replies, PONGs), the connection is closed: its peer has stopped reading.
   */
  readonly maxBufferedBytes?: number;
  /**
   * Server side: stop reading from the peer while this many bytes wait to be sent to it, and read
   * again on 'drain'. A peer that writes requests but never reads the replies then fills its own
   * buffers, not ours.
   */
  readonly pauseReadingAboveBytes?: number;
  /** Server side: requests being handled at once; past it, reading stops until one finishes. */
  readonly maxInFlightRequests?: number;
  readonly logger?: Logger;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
export const DEFAULT_KEEPALIVE_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PAUSE_READING_ABOVE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_IN_FLIGHT_REQUESTS = 256;
/**
 * A server dispatches this many requests from its read buffer, then lets their replies be written
 * before it looks at the send buffer again: a single 64 KiB read can hold thousands of requests,
 * and replies written later would otherwise escape the reading pause.
 */
const REQUESTS_PER_TURN = 16;
/** Any frames (notifications too) a server takes from one peer before other connections get a turn. */
const FRAMES_PER_TURN = 256;

export interface RequestOptions {
  readonly timeoutMs?: number;
}

interface Pending {
  readonly method: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: SkepError) => void;
  readonly timer: NodeJS.Timeout;
}

export type CloseListener = (error: SkepError | undefined) => void;

export class RpcConnection {
  readonly remoteAddress: string;
  private readonly decoder: FrameDecoder;
  private readonly maxFrameBytes: number;
  private idleTimeoutMs: number;
  private keepaliveMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxBufferedBytes: number;
  private readonly pauseReadingAboveBytes: number;
  private readonly maxInFlightRequests: number;
  private readonly logger: Logger;
  private readonly pending = new Map<number, Pending>();
  private readonly closeListeners = new Set<CloseListener>();
  private nextId = 1;
  private corked = false;
  private open = true;
  private closeError: SkepError | undefined;
  private lastReceivedAt = Date.now();
  private lastPingAt = 0;
  private timer: NodeJS.Timeout;
  private silent = false;
  private helloReceived = false;
  /** Requests of the peer being handled now. */
  private inFlight = 0;
  /** Why reading is stopped, or null while reading. Only a server stops reading (see pump). */
  private pausedBy: 'writes' | 'requests' | 'turn' | null = null;
  private requestsDispatched = 0;
  private pumpScheduled = false;
  private resolveHello!: (body: unknown) => void;
  private rejectHello!: (error: SkepError) => void;
  /** Client side: resolves with the server's HELLO body. */
  readonly hello: Promise<unknown>;

  constructor(
    private readonly socket: Socket,
    readonly side: 'client' | 'server',
    readonly peer: PeerIdentity | null,
    private handlers: Handlers,
    options: ConnectionOptions = {},
  ) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.keepaliveMs = options.keepaliveMs ?? Math.min(DEFAULT_KEEPALIVE_MS, Math.floor(this.idleTimeoutMs / 3));
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.pauseReadingAboveBytes = Math.min(options.pauseReadingAboveBytes ?? DEFAULT_PAUSE_READING_ABOVE_BYTES, this.maxBufferedBytes);
    this.maxInFlightRequests = Math.max(1, options.maxInFlightRequests ?? DEFAULT_MAX_IN_FLIGHT_REQUESTS);
    this.logger = options.logger ?? noopLogger;
    this.decoder = new FrameDecoder(this.maxFrameBytes);
    this.hello = new Promise((resolve, reject) => {
      this.resolveHello = resolve;
      this.rejectHello = reject;
    });
    // Nobody may be awaiting hello (server side); an unobserved rejection must not crash the process.
    this.hello.catch(() => {});

    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.schedulePump);
    this.timer = this.startTimer();
  }

  private startTimer(): NodeJS.Timeout {
    const tick = Math.max(10, Math.min(this.keepaliveMs, Math.floor(this.idleTimeoutMs / 3)));
    const timer = setInterval(this.onTick, tick);
    timer.unref();
    return timer;
  }

  /**
   * Changes how soon a quiet peer is probed and a silent one given up, on a live connection (a peer
   * that turned out to matter more, such as a Raft member, is watched more closely).
   */
  setLiveness(liveness: { keepaliveMs: number; idleTimeoutMs: number }): void {
    if (!this.open) return;
    this.idleTimeoutMs = liveness.idleTimeoutMs;
    this.keepaliveMs = Math.min(liveness.keepaliveMs, Math.floor(liveness.idleTimeoutMs / 3));
    clearInterval(this.timer);
    this.timer = this.startTimer();
  }

  /** When the last bytes arrived from the peer (Date.now() milliseconds): a sign of life of its process. */
  get lastReceivedMs(): number {
    return this.lastReceivedAt;
  }

  /**
   * The connection ended because the peer fell silent past the idle timeout — no reset, no close:
   * the peer may be alive behind a broken path, or stalled. Not the same news as a reset.
   */
  get endedBySilence(): boolean {
    return this.silent;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** True while this side has stopped reading (its peer is not reading replies, or too many requests run). */
  get isReadingPaused(): boolean {
    return this.pausedBy !== null;
  }

  /** Requests of the peer being handled now. */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Bytes written but not yet handed to the kernel. */
  get unsentBytes(): number {
    return this.socket.writableLength;
  }

  /** Replaces the handlers (a client pool wires them after connecting). */
  setHandlers(handlers: Handlers): void {
    this.handlers = handlers;
  }

  /** Called with the error that ended the connection (undefined for a clean close). Fires once. */
  onClose(listener: CloseListener): () => void {
    if (!this.open) {
      queueMicrotask(() => listener(this.closeError));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  request<T = unknown>(method: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    if (!this.open) return Promise.reject(this.closedError());
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    let frame: Buffer;
    try {
      frame = encodeMessage({ kind: MessageKind.Request, id, method, body }, this.maxFrameBytes);
    } catch (error) {
      return Promise.reject(asSkepError(error));
    }
    if (!this.hasRoomFor(frame.length)) return Promise.reject(skepError('SEND_BUFFER_FULL', this.remoteAddress));
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(skepError('RPC_TIMEOUT', method, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.write(frame);
    });
  }

  /**
   * Sends a one-way message. Returns false (and drops it) when the connection is closed or its
   * send buffer is full: the caller (Raft) treats that like a lost packet.
   */
  notify(method: string, body?: unknown): boolean {
    if (!this.open) return false;
    const frame = encodeMessage({ kind: MessageKind.Notify, method, body }, this.maxFrameBytes);
    if (!this.hasRoomFor(frame.length)) {
      this.logger.debug('net: send buffer full, message dropped', { peer: this.remoteAddress, method });
      return false;
    }
    this.write(frame);
    return true;
  }

  /** Server side: the first frame, telling the client it was accepted. */
  sendHello(body: unknown): void {
    this.write(encodeMessage({ kind: MessageKind.Hello, body }, this.maxFrameBytes));
  }

  /** Closes after flushing what was already written. */
  close(): void {
    if (!this.open) return;
    this.finish(undefined);
    this.socket.end();
    // A peer that never reads must not keep the socket (and its buffers) alive.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  destroy(error?: SkepError): void {
    if (this.open) this.finish(error);
    this.socket.destroy();
  }

  private hasRoomFor(bytes: number): boolean {
    return this.socket.writableLength + bytes <= this.maxBufferedBytes;
  }

  /**
   * Writes what cannot be refused (a reply, a PONG): past maxBufferedBytes the peer has stopped
   * reading for good, and the connection goes instead of our memory.
   */
  private writeOrClose(frame: Buffer): void {
    if (!this.hasRoomFor(frame.length)) {
      this.logger.warn('net: the peer does not read its replies; closing', { peer: this.remoteAddress, unsentBytes: this.socket.writableLength });
      this.destroy(skepError('SEND_BUFFER_FULL', this.remoteAddress));
      return;
    }
    this.write(frame);
  }

  private write(frame: Buffer): void {
    // Coalesce every frame written in this tick into one TLS write: Raft sends bursts of small
    // messages and one record per message would cost a syscall and a MAC each.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(frame);
    if (this.side === 'server' && this.pausedBy === null && this.socket.writableLength > this.pauseReadingAboveBytes) this.pauseReading('writes');
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private readonly onTick = (): void => {
    const now = Date.now();
    // Our own slow handlers are not the peer's silence.
    if (this.pausedBy === 'requests' || this.pausedBy === 'turn') this.lastReceivedAt = now;
    if (now - this.lastReceivedAt > this.idleTimeoutMs) {
      this.logger.debug('net: idle timeout', { peer: this.remoteAddress });
      this.silent = true;
      this.destroy(skepError('CONNECTION_CLOSED', this.remoteAddress));
      return;
    }
    if (now - this.lastReceivedAt >= this.keepaliveMs && now - this.lastPingAt >= this.keepaliveMs) {
      this.lastPingAt = now;
      this.writeOrClose(PING_FRAME);
    }
  };

  private readonly onData = (chunk: Buffer): void => {
    this.lastReceivedAt = Date.now();
    this.decoder.append(chunk);
    this.pump();
  };

  /**
   * Dispatches buffered frames while this side may read. A server stops reading (and dispatching)
   * while its peer leaves replies unread or while too many of its requests run; a client always
   * reads, so two ends can never both wait for the other to read. Frames left in the decoder wait
   * for 'drain' or a finished request.
   */
  private pump(): void {
    const requestsBefore = this.requestsDispatched;
    let frames = 0;
    try {
      while (this.open) {
        const reason = this.pauseReason();
        if (reason !== null) {
          this.pauseReading(reason);
          return;
        }
        if (this.side === 'server' && (this.requestsDispatched - requestsBefore >= REQUESTS_PER_TURN || frames >= FRAMES_PER_TURN)) {
          this.pauseReading('turn');
          this.schedulePump();
          return;
        }
        const payload = this.decoder.next();
        if (payload === undefined) break;
        frames++;
        this.onFrame(payload);
      }
    } catch (error) {
      const e = asSkepError(error);
      this.logger.warn('net: closing connection after a protocol error', { peer: this.remoteAddress, error: e.message });
      this.destroy(e);
      return;
    }
    if (this.pausedBy !== null && this.open) {
      this.pausedBy = null;
      this.socket.resume();
    }
  }

  private readonly schedulePump = (): void => {
    if (this.pumpScheduled || this.pausedBy === null) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (this.pausedBy !== null) this.pump();
    });
  };

  private pauseReason(): 'writes' | 'requests' | null {
    if (this.side !== 'server') return null;
    if (this.socket.writableLength > this.pauseReadingAboveBytes) return 'writes';
    if (this.inFlight >= this.maxInFlightRequests) return 'requests';
    return null;
  }

  private pauseReading(reason: 'writes' | 'requests' | 'turn'): void {
    if (this.pausedBy === null) this.socket.pause();
    this.pausedBy = reason;
  }

  private onFrame(payload: Buffer): void {
    if (!this.open) return;
    const message = decodeMessage(payload);
    if (this.side === 'client' && !this.helloReceived && message.kind !== MessageKind.Hello) {
      throw skepError('PROTOCOL_ERROR', 'expected HELLO first');
    }
    this.dispatch(message);
  }

  private dispatch(message: Message): void {
    switch (message.kind) {
      case MessageKind.Ping:
        this.writeOrClose(PONG_FRAME);
        return;
      case MessageKind.Pong:
        return;
      case MessageKind.Hello:
        if (this.side !== 'client' || this.helloReceived) throw skepError('PROTOCOL_ERROR', 'unexpected HELLO');
        this.helloReceived = true;
        this.resolveHello(message.body);
        return;
      case MessageKind.Response:
      case MessageKind.Error: {
        const pending = this.pending.get(message.id);
        // A response after its timeout is not an error: the peer was just slow.
        if (pending === undefined) return;
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.kind === MessageKind.Response) pending.resolve(message.body);
        else pending.reject(SkepError.fromEnvelope(message.error));
        return;
      }
      case MessageKind.Notify: {
        const onNotify = this.handlers.onNotify;
        if (onNotify === undefined) return;
        try {
          onNotify(message.method, message.body, this.context());
        } catch (error) {
          this.logger.warn('net: notification handler failed', { peer: this.remoteAddress, method: message.method, error: errorText(error) });
        }
        return;
      }
      case MessageKind.Request:
        void this.handleRequest(message.id, message.method, message.body);
        return;
    }
  }

  private async handleRequest(id: number, method: string, body: unknown): Promise<void> {
    this.inFlight++;
    this.requestsDispatched++;
    try {
      await this.answerRequest(id, method, body);
    } finally {
      this.inFlight--;
      this.schedulePump();
    }
  }

  private async answerRequest(id: number, method: string, body: unknown): Promise<void> {
    const handler = this.handlers.requests !== undefined && Object.hasOwn(this.handlers.requests, method)
      ? this.handlers.requests[method]
      : undefined;
    let reply: Message;
    if (handler === undefined) {
      reply = { kind: MessageKind.Error, id, error: skepError('UNKNOWN_METHOD', method).toEnvelope() };
    } else {
      try {
        reply = { kind: MessageKind.Response, id, body: await handler(body, this.context()) };
      } catch (error) {
        reply = { kind: MessageKind.Error, id, error: this.envelopeFor(method, error) };
      }
    }
    if (!this.open) return;
    let frame: Buffer;
    try {
      frame = encodeMessage(reply, this.maxFrameBytes);
    } catch (error) {
      frame = encodeMessage({ kind: MessageKind.Error, id, error: this.envelopeFor(method, error) }, this.maxFrameBytes);
    }
    this.writeOrClose(frame);
  }

  private envelopeFor(method: string, error: unknown): ErrorEnvelope {
    if (error instanceof SkepError) return error.toEnvelope();
    // Unexpected failures stay local: their text may describe internals the peer has no business seeing.
    this.logger.error('net: request handler failed', { peer: this.remoteAddress, method, error: errorText(error) });
    return skepError('INTERNAL', `request "${method}" failed`).toEnvelope();
  }

  private context(): HandlerContext {
    return { peer: this.peer, remoteAddress: this.remoteAddress, connection: this };
  }

  private readonly onSocketError = (error: Error): void => {
    this.logger.debug('net: socket error', { peer: this.remoteAddress, error: error.message });
    if (this.open) this.finish(skepError('CONNECTION_CLOSED', this.remoteAddress));
  };

  private readonly onSocketClose = (): void => {
    if (this.open) this.finish(this.closeError);
  };

  private closedError(): SkepError {
    return this.closeError ?? skepError('CONNECTION_CLOSED', this.remoteAddress);
  }

  private finish(error: SkepError | undefined): void {
    this.open = false;
    this.closeError = error;
    clearInterval(this.timer);
    const closed = skepError('CONNECTION_CLOSED', this.remoteAddress);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(closed);
    }
    this.pending.clear();
    if (!this.helloReceived) this.rejectHello(error ?? closed);
    for (const listener of this.closeListeners) {
      try {
        listener(error);
      } catch (e) {
        this.logger.warn('net: close listener failed', { error: errorText(e) });
      }
    }
    this.closeListeners.clear();
  }
}

/** Only the connection settings out of a larger options object (which may hold credentials). */
export function connectionOptionsOf(o: ConnectionOptions, logger: Logger): ConnectionOptions {
  return {
    maxFrameBytes: o.maxFrameBytes,
    idleTimeoutMs: o.idleTimeoutMs,
    keepaliveMs: o.keepaliveMs,
    requestTimeoutMs: o.requestTimeoutMs,
    maxBufferedBytes: o.maxBufferedBytes,
    pauseReadingAboveBytes: o.pauseReadingAboveBytes,
    maxInFlightRequests: o.maxInFlightRequests,
    logger,
  };
}

export function asSkepError(error: unknown): SkepError {
  if (error instanceof SkepError) return error;
  return skepError('INTERNAL', errorText(error));
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

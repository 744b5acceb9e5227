// The CLI's side of the control socket: a SkepClient whose calls go to the local daemon.
import net from 'node:net';
import type { EventListener, MethodName, Reply, SkepClient, SkepStreams } from '../../shared/api.js';
import { createClient } from '../../shared/client.js';
import { SkepError, skepError } from '../../shared/errors.js';
import type { ServiceLogLine } from '../../shared/services.js';
import { isChunkFrame, isEventFrame, type ControlFrame } from '../../shared/wire.js';
import { controlPath } from '../server/control-socket.js';
import { checkControlSocket } from '../server/private-socket.js';

export interface ControlClient extends SkepClient {
  /** A streaming call; it ends with the daemon's reply, or when this client closes. */
  followServiceLogs(service: string, options: { tail?: number; sinceSeconds?: number }, onLines: (lines: ServiceLogLine[]) => void): Promise<void>;
  close(): void;
  /** Called each time an open connection to the daemon is lost (the daemon stopped or died). */
  onDisconnect(listener: () => void): () => void;
}

/** The parameters a streaming call sends (its sink and signal stay on this side). */
type StreamParams<M extends keyof SkepStreams> = Parameters<SkepStreams[M]> extends [...infer P, unknown, unknown] ? P : never;

export function connectControl(address: string): ControlClient {
  const socketPath = controlPath(address);
  let socket: net.Socket | undefined;
  let ready: Promise<net.Socket> | undefined;
  const pending = new Map<number, (reply: Reply) => void>();
  const chunkSinks = new Map<number, (chunk: unknown) => void>();
  const listeners = new Set<EventListener>();
  const disconnectListeners = new Set<() => void>();
  let nextId = 1;
  let buffered = '';

  // A failed or lost connection is forgotten, so the next call dials again: a daemon that
  // restarts is reached without restarting its clients (skep ui's server among them).
  function connect(): Promise<net.Socket> {
    if (!ready) {
      const attempt = verifiedSocket().then(() => open());
      ready = attempt;
      attempt.catch(() => {
        if (ready === attempt) ready = undefined;
      });
    }
    return ready;
  }

  /** Nothing is sent to a socket another user could have planted (see private-socket.ts). */
  async function verifiedSocket(): Promise<void> {
    if (!(await checkControlSocket(socketPath))) throw skepError('DAEMON_UNREACHABLE', address);
  }

  function open(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const candidate = net.connect(socketPath);
      candidate.once('connect', () => {
        socket = candidate;
        buffered = '';
        resolve(candidate);
      });
      candidate.once('error', () => reject(skepError('DAEMON_UNREACHABLE', address)));
      candidate.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const frame = JSON.parse(buffered.slice(0, newline)) as ControlFrame;
          buffered = buffered.slice(newline + 1);
          if (isEventFrame(frame)) {
            for (const listener of listeners) listener(frame.event);
          } else if (isChunkFrame(frame)) {
            chunkSinks.get(frame.id)?.(frame.chunk);
          } else if (frame.id !== null) {
            pending.get(frame.id)?.(frame);
            pending.delete(frame.id);
            chunkSinks.delete(frame.id);
          }
        }
      });
      candidate.on('close', () => {
        const wasOpen = socket === candidate;
        if (wasOpen) {
          socket = undefined;
          ready = undefined;
        }
        // These requests were sent: the daemon may have carried them out before it went away.
        const lost: Reply = { ok: false, error: skepError('OUTCOME_UNKNOWN', address).toEnvelope() };
        for (const resolvePending of pending.values()) resolvePending(lost);
        pending.clear();
        chunkSinks.clear();
        if (wasOpen) for (const listener of disconnectListeners) listener();
      });
    });
  }

  const client = createClient({
    async call(method: MethodName, params: readonly unknown[]): Promise<Reply> {
      const connected = await connect();
      const id = nextId++;
      return new Promise<Reply>((resolve) => {
        pending.set(id, resolve);
        connected.write(JSON.stringify({ id, method, params }) + '\n');
      });
    },
    onEvent: (listener: EventListener) => {
      listeners.add(listener);
      void connect().catch(() => undefined);
      return () => listeners.delete(listener);
    },
  });
  async function stream<M extends keyof SkepStreams>(method: M, params: StreamParams<M>, onChunk: (chunk: unknown) => void): Promise<void> {
    const connected = await connect();
    const id = nextId++;
    const reply = await new Promise<Reply>((resolve) => {
      pending.set(id, resolve);
      chunkSinks.set(id, onChunk);
      connected.write(JSON.stringify({ id, method, params }) + '\n');
    });
    if (!reply.ok) throw SkepError.fromEnvelope(reply.error);
  }

  return Object.assign(client, {
    followServiceLogs: (service: string, options: { tail?: number; sinceSeconds?: number }, onLines: (lines: ServiceLogLine[]) => void) =>
      stream('followServiceLogs', [service, options], (chunk) => onLines(chunk as ServiceLogLine[])),
    close: () => {
      disconnectListeners.clear();
      socket?.destroy();
    },
    onDisconnect: (listener: () => void) => {
      disconnectListeners.add(listener);
      return () => disconnectListeners.delete(listener);
    },
  });
}

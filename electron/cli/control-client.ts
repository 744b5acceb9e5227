// The CLI's side of the control socket: a SkepClient whose calls go to the local daemon.
import net from 'node:net';
import type { EventListener, MethodName, Reply, SkepClient } from '../../shared/api.js';
import { createClient } from '../../shared/client.js';
import { skepError } from '../../shared/errors.js';
import { isEventFrame, type ServerFrame } from '../../shared/wire.js';
import { controlPath } from '../server/control-socket.js';
import { checkControlSocket } from '../server/private-socket.js';

export interface ControlClient extends SkepClient {
  close(): void;
}

export function connectControl(address: string): ControlClient {
  const socketPath = controlPath(address);
  let socket: net.Socket | undefined;
  let ready: Promise<net.Socket> | undefined;
  const pending = new Map<number, (reply: Reply) => void>();
  const listeners = new Set<EventListener>();
  let nextId = 1;
  let buffered = '';

  function connect(): Promise<net.Socket> {
    ready ??= verifiedSocket().then(() => open());
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
        resolve(candidate);
      });
      candidate.once('error', () => reject(skepError('DAEMON_UNREACHABLE', address)));
      candidate.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const frame = JSON.parse(buffered.slice(0, newline)) as ServerFrame;
          buffered = buffered.slice(newline + 1);
          if (isEventFrame(frame)) {
            for (const listener of listeners) listener(frame.event);
          } else if (frame.id !== null) {
            pending.get(frame.id)?.(frame);
            pending.delete(frame.id);
          }
        }
      });
      candidate.on('close', () => {
        // These requests were sent: the daemon may have carried them out before it went away.
        const lost: Reply = { ok: false, error: skepError('OUTCOME_UNKNOWN', address).toEnvelope() };
        for (const resolvePending of pending.values()) resolvePending(lost);
        pending.clear();
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
  return Object.assign(client, { close: () => socket?.destroy() });
}

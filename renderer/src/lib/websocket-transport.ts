// Browser mode's transport: one WebSocket, calls matched to replies by id, reconnect with backoff.
import type { EventListener, MethodName, Reply } from '../../../shared/api.js';
import type { ClientTransport } from '../../../shared/client.js';
import { isEventFrame, type ServerFrame } from '../../../shared/wire.js';

interface Pending {
  resolve(reply: Reply): void;
}

const DISCONNECTED: Reply = {
  ok: false,
  error: { code: 'DAEMON_UNREACHABLE', message: 'Lost the connection to Skep. Reconnecting…' },
};

export interface WebSocketTransportOptions {
  /** The socket closed, or could not open: the server is gone or refused this page. */
  readonly onClose?: () => void;
}

export function webSocketTransport(url: string, options: WebSocketTransportOptions = {}): ClientTransport {
  const listeners = new Set<EventListener>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let socket: WebSocket | undefined;
  let opened: Promise<WebSocket> | undefined;
  let retryMs = 250;

  function connect(): Promise<WebSocket> {
    opened ??= new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.addEventListener('open', () => {
        socket = ws;
        retryMs = 250;
        resolve(ws);
      });
      ws.addEventListener('message', (message) => {
        const frame = JSON.parse(String(message.data)) as ServerFrame;
        if (isEventFrame(frame)) {
          for (const listener of listeners) listener(frame.event);
        } else if (frame.id !== null) {
          pending.get(frame.id)?.resolve(frame);
          pending.delete(frame.id);
        }
      });
      ws.addEventListener('close', () => {
        socket = undefined;
        opened = undefined;
        for (const call of pending.values()) call.resolve(DISCONNECTED);
        pending.clear();
        reject(new Error('closed'));
        options.onClose?.();
        // Keep events flowing after a daemon restart without the user reloading the page.
        if (listeners.size > 0) {
          setTimeout(() => void connect().catch(() => undefined), retryMs);
          retryMs = Math.min(retryMs * 2, 5000);
        }
      });
    });
    return opened;
  }

  return {
    async call(method: MethodName, params: readonly unknown[]): Promise<Reply> {
      let ws: WebSocket;
      try {
        ws = socket ?? (await connect());
      } catch {
        return DISCONNECTED;
      }
      const id = nextId++;
      return new Promise<Reply>((resolve) => {
        pending.set(id, { resolve });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    onEvent(listener: EventListener): () => void {
      listeners.add(listener);
      void connect().catch(() => undefined);
      return () => listeners.delete(listener);
    },
  };
}

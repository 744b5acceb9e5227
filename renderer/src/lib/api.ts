// The renderer's one way to the node. It picks the transport once; nothing else knows which it is.
// Every reply also tells the connection store whether the node answered (see stores/connection).
import type { MethodName, Reply, SkepClient } from '../../../shared/api.js';
import type { SkepBridge } from '../../../shared/bridge.js';
import { createClient, type ClientTransport } from '../../../shared/client.js';
import { connection } from '../stores/connection.svelte.js';
import { webSocketTransport } from './websocket-transport.js';

declare global {
  interface Window {
    /** Present only inside the Electron window (see electron/preload). */
    readonly skep?: SkepBridge;
  }
}

/** Reports each reply to the connection store: DAEMON_UNREACHABLE and OUTCOME_UNKNOWN (the node went away mid-call) are codes a node never sends itself. */
export function reportingTransport(transport: ClientTransport, onAnswer: () => void, onLost: () => void): ClientTransport {
  return {
    async call(method: MethodName, params: readonly unknown[]): Promise<Reply> {
      const reply = await transport.call(method, params);
      if (!reply.ok && (reply.error.code === 'DAEMON_UNREACHABLE' || reply.error.code === 'OUTCOME_UNKNOWN')) onLost();
      else onAnswer();
      return reply;
    },
    onEvent: (listener) =>
      transport.onEvent((event) => {
        onAnswer();
        listener(event);
      }),
  };
}

function chooseTransport(): ClientTransport {
  const bridge = window.skep;
  if (bridge) return { call: (method, params) => bridge.call(method, params), onEvent: (listener) => bridge.onEvent(listener) };
  const url = new URL('api', window.location.href);
  url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  return webSocketTransport(url.toString(), { onClose: () => connection.lost() });
}

export const api: SkepClient = createClient(reportingTransport(chooseTransport(), () => connection.answered(), () => connection.lost()));

// The renderer's one way to the node. It picks the transport once; nothing else knows which it is.
import type { SkepClient } from '../../../shared/api.js';
import type { SkepBridge } from '../../../shared/bridge.js';
import { createClient } from '../../../shared/client.js';
import { webSocketTransport } from './websocket-transport.js';

declare global {
  interface Window {
    /** Present only inside the Electron window (see electron/preload). */
    readonly skep?: SkepBridge;
  }
}

function chooseClient(): SkepClient {
  const bridge = window.skep;
  if (bridge) return createClient({ call: (method, params) => bridge.call(method, params), onEvent: (listener) => bridge.onEvent(listener) });
  const url = new URL('api', window.location.href);
  url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  return createClient(webSocketTransport(url.toString()));
}

export const api: SkepClient = chooseClient();

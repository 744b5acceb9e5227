// What the Electron preload exposes as `window.skep`: the IPC side of ClientTransport.
import type { EventListener, MethodName, Reply } from './api.js';

export const IPC_CALL_CHANNEL = 'skep:call';
export const IPC_EVENT_CHANNEL = 'skep:event';

export interface SkepBridge {
  call(method: MethodName, params: readonly unknown[]): Promise<Reply>;
  onEvent(listener: EventListener): () => void;
}

// The only bridge between the sandboxed page and the main process: window.skep (shared/bridge.ts).
// Bundled as CommonJS: a sandboxed preload can't load ES modules.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { isMethodName, type EventListener, type MethodName, type Reply, type SkepEvent } from '../../shared/api.js';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type SkepBridge } from '../../shared/bridge.js';

const bridge: SkepBridge = {
  call(method: MethodName, params: readonly unknown[]): Promise<Reply> {
    if (!isMethodName(method)) return Promise.reject(new Error(`unknown method "${String(method)}"`));
    return ipcRenderer.invoke(IPC_CALL_CHANNEL, method, [...params]) as Promise<Reply>;
  },
  onEvent(listener: EventListener): () => void {
    // Wrap so the page never sees the IpcRendererEvent (it exposes `sender`).
    const forward = (_event: IpcRendererEvent, payload: SkepEvent): void => listener(payload);
    ipcRenderer.on(IPC_EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, forward);
    };
  },
};

contextBridge.exposeInMainWorld('skep', bridge);

// The IPC transport of the API: one invoke channel for calls, one channel for pushed events.
import type { IpcMain, WebContents } from 'electron';
import type { Reply, SkepService } from '../../shared/api.js';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL } from '../../shared/bridge.js';
import { dispatchCall } from '../../shared/dispatch.js';
import { skepError } from '../../shared/errors.js';
import { isTrustedSender } from './security.js';

export interface IpcOptions {
  readonly ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  readonly service: SkepService;
  readonly appBaseUrl: string;
  /** The windows that should hear events (read at each event, so new windows are included). */
  readonly recipients: () => readonly Pick<WebContents, 'send' | 'isDestroyed'>[];
}

/** Registers the handlers; returns a function that removes them and stops forwarding events. */
export function registerIpc(options: IpcOptions): () => void {
  options.ipcMain.handle(IPC_CALL_CHANNEL, async (event, method: unknown, params: unknown): Promise<Reply> => {
    if (!isTrustedSender(event, options.appBaseUrl)) {
      return { ok: false, error: skepError('UNAUTHORIZED').toEnvelope() };
    }
    return dispatchCall(options.service, method, params);
  });
  const unsubscribe = options.service.subscribe((event) => {
    for (const contents of options.recipients()) {
      if (!contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, event);
    }
  });
  return () => {
    unsubscribe();
    options.ipcMain.removeHandler(IPC_CALL_CHANNEL);
  };
}

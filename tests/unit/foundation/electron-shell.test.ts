// The Electron shell's logic, driven with stand-ins for Electron's objects: Electron's binary
// can't run here, and these modules were written to take those objects as parameters.
import { EventEmitter } from 'node:events';
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { registerIpc } from '../../../electron/main/ipc.js';
import { applicationMenuTemplate, trayMenuTemplate } from '../../../electron/main/menus.js';
import { hardenWebContents, isAppUrl, isTrustedSender, secureWebPreferences } from '../../../electron/main/security.js';
import { keepAliveInTray } from '../../../electron/main/window-lifecycle.js';
import type { EventListener, SkepService } from '../../../shared/api.js';
import { serviceWith } from '../../support/api-stub.js';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL } from '../../../shared/bridge.js';

const APP = 'file:///opt/Skep/resources/app/out/renderer';

/** Stand-in for Electron's WebContents: records handlers so the test can fire them. */
class WebContentsStandIn extends EventEmitter {
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  sent: [string, unknown][] = [];
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push([channel, payload]);
  }
  isDestroyed(): boolean {
    return false;
  }
}

function navigationPrevented(contents: WebContentsStandIn, eventName: string, url: string): boolean {
  let prevented = false;
  contents.emit(eventName, { preventDefault: () => (prevented = true) }, url);
  return prevented;
}

/** Stand-in for ipcMain: keeps the registered handler so the test can invoke it. */
class IpcMainStandIn {
  handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();
  handle(channel: string, handler: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void {
    this.handlers.set(channel, handler);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

function senderEvent(url: string, parent: object | null = null): IpcMainInvokeEvent {
  return { senderFrame: { url, parent } } as unknown as IpcMainInvokeEvent;
}

describe('Electron security baseline', () => {
  it('runs the page sandboxed, isolated and without Node', () => {
    const preferences = secureWebPreferences('/app/out/preload/index.cjs');
    expect(preferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(preferences.preload).toBe('/app/out/preload/index.cjs');
  });

  it('denies window.open and navigation away from the app', () => {
    const contents = new WebContentsStandIn();
    hardenWebContents(contents as unknown as WebContents, APP);
    expect(contents.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(navigationPrevented(contents, 'will-navigate', 'https://example.com/')).toBe(true);
    expect(navigationPrevented(contents, 'will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(navigationPrevented(contents, 'will-redirect', 'http://127.0.0.1:9/')).toBe(true);
    expect(navigationPrevented(contents, 'will-navigate', `${APP}/index.html#/nodes`)).toBe(false);
    expect(navigationPrevented(contents, 'will-attach-webview', `${APP}/index.html`)).toBe(true);
  });

  it('recognises app URLs exactly, not by prefix of a sibling folder', () => {
    expect(isAppUrl(`${APP}/index.html`, APP)).toBe(true);
    expect(isAppUrl(`${APP}-evil/index.html`, APP)).toBe(false);
    expect(isAppUrl('not a url', APP)).toBe(false);
  });

  it('trusts IPC only from the app page main frame', () => {
    expect(isTrustedSender(senderEvent(`${APP}/index.html`), APP)).toBe(true);
    expect(isTrustedSender(senderEvent(`${APP}/index.html`, {}), APP)).toBe(false);
    expect(isTrustedSender(senderEvent('https://example.com/'), APP)).toBe(false);
    expect(isTrustedSender({ senderFrame: null } as unknown as IpcMainInvokeEvent, APP)).toBe(false);
  });
});

describe('IPC transport', () => {
  function serviceWithListeners(): { service: SkepService; listeners: Set<EventListener> } {
    const listeners = new Set<EventListener>();
    const service: SkepService = serviceWith({
      getSwarmStatus: () => Promise.resolve({ state: 'inactive' }),
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    });
    return { service, listeners };
  }

  it('dispatches calls from the app, refuses others, and forwards events to windows', async () => {
    const ipcMain = new IpcMainStandIn();
    const contents = new WebContentsStandIn();
    const { service, listeners } = serviceWithListeners();
    const unregister = registerIpc({
      ipcMain: ipcMain as unknown as IpcMain,
      service,
      appBaseUrl: APP,
      recipients: () => [contents as unknown as WebContents],
    });
    const handler = ipcMain.handlers.get(IPC_CALL_CHANNEL);
    expect(handler).toBeDefined();

    await expect(handler?.(senderEvent(`${APP}/index.html`), 'getSwarmStatus', [])).resolves.toEqual({ ok: true, result: { state: 'inactive' } });
    await expect(handler?.(senderEvent('https://evil.example/'), 'getSwarmStatus', [])).resolves.toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    await expect(handler?.(senderEvent(`${APP}/index.html`), 'rmRf', [])).resolves.toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });

    for (const listener of listeners) listener({ type: 'swarm.status', payload: { state: 'inactive' } });
    expect(contents.sent).toEqual([[IPC_EVENT_CHANNEL, { type: 'swarm.status', payload: { state: 'inactive' } }]]);

    unregister();
    expect(ipcMain.handlers.size).toBe(0);
    expect(listeners.size).toBe(0);
  });
});

describe('window and menus', () => {
  it('hides the window on close unless the app is quitting', () => {
    const window = Object.assign(new EventEmitter(), { hidden: 0, hide() { this.hidden += 1; } });
    const state = { quitting: false };
    keepAliveInTray(window as never, state);
    let prevented = false;
    window.emit('close', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    expect(window.hidden).toBe(1);

    state.quitting = true;
    prevented = false;
    window.emit('close', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(false);
    expect(window.hidden).toBe(1);
  });

  it('offers Open Skep and Quit in the tray, and wires them', () => {
    const done: string[] = [];
    const template = trayMenuTemplate({ openWindow: () => done.push('open'), quit: () => done.push('quit') });
    const labels = template.map((item) => item.label).filter(Boolean);
    expect(labels).toEqual(['Open Skep', 'Quit Skep']);
    for (const item of template) (item.click as (() => void) | undefined)?.();
    expect(done).toEqual(['open', 'quit']);
  });

  it('builds the platform application menu with a Quit item', () => {
    for (const platform of ['darwin', 'linux', 'win32'] as const) {
      const template = applicationMenuTemplate(platform, { openWindow: () => undefined, quit: () => undefined });
      const items = template.flatMap((menu) => (Array.isArray(menu.submenu) ? menu.submenu : []));
      expect(items.some((item) => item.label === 'Quit Skep'), platform).toBe(true);
    }
  });
});

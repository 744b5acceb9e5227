// The Electron shell's logic, driven with stand-ins for Electron's objects: Electron's binary
// can't run here, and these modules were written to take those objects as parameters.
import { EventEmitter } from 'node:events';
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { registerIpc } from '../../../electron/main/ipc.js';
import { applicationMenuTemplate, trayMenuTemplate } from '../../../electron/main/menus.js';
import { hardenWebContents, isAppUrl, isTrustedSender, secureWebPreferences } from '../../../electron/main/security.js';
import { createTrayController, trayIconPath, trayView } from '../../../electron/main/tray.js';
import { keepAliveInTray } from '../../../electron/main/window-lifecycle.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Menu, MenuItemConstructorOptions, NativeImage } from 'electron';
import { swarmHealth } from '../../../shared/health.js';
import type { SwarmStatus } from '../../../shared/types.js';
import type { EventListener, SkepService } from '../../../shared/api.js';
import { serviceWith } from '../../support/service-double.js';
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

function status(managers: number, reachableManagers: number, nodes = managers, readyNodes = nodes): SwarmStatus {
  return { state: 'active', nodeId: 'n1', clusterId: 'c1', role: 'manager', nodeAddr: '10.0.0.1:2377', managers, reachableManagers, nodes, readyNodes, leaderId: reachableManagers * 2 > managers ? 'n1' : null };
}

/** Stand-in for Electron's Tray: records what the app last showed. */
class TrayStandIn {
  image: string | undefined;
  tooltip = '';
  menu: MenuItemConstructorOptions[] = [];
  imageChanges = 0;
  menuChanges = 0;
  setImage(image: NativeImage): void {
    this.image = (image as unknown as { path: string }).path;
    this.imageChanges += 1;
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  setContextMenu(menu: Menu): void {
    this.menu = (menu as unknown as { template: MenuItemConstructorOptions[] }).template;
    this.menuChanges += 1;
  }
}

function labelsOf(template: MenuItemConstructorOptions[]): string[] {
  return template.map((item) => (item.type === 'separator' ? '—' : (item.label ?? '')));
}

describe('tray', () => {
  const iconsDir = path.resolve(import.meta.dirname, '../../../build/icons');

  it('has an icon for every state, and a template image for macOS', () => {
    for (const state of ['healthy', 'degraded', 'critical', 'offline'] as const) {
      for (const platform of ['linux', 'win32', 'darwin'] as const) {
        const icon = trayIconPath(iconsDir, state, platform);
        expect(existsSync(icon), icon).toBe(true);
        expect(existsSync(icon.replace('.png', '@2x.png')), icon).toBe(true);
      }
      expect(trayIconPath(iconsDir, state, 'darwin')).toMatch(/Template\.png$/);
    }
  });

  it('shows the summary, counts, Leave swarm… and Quit, and wires them', () => {
    const done: string[] = [];
    const actions = { openWindow: () => done.push('open'), quit: () => done.push('quit'), leaveSwarm: () => done.push('leave') };
    const view = trayView(swarmHealth(status(3, 2, 4, 3)), iconsDir, 'linux', actions);
    expect(view.iconPath).toBe(path.join(iconsDir, 'tray-degraded.png'));
    expect(view.tooltip).toBe('Skep — Quorum at risk — 2 of 3 managers reachable, can lose none');
    expect(labelsOf(view.menu)).toEqual(['Open Skep', '—', 'Quorum at risk — 2 of 3 managers reachable, can lose none', 'Managers reachable 2/3', 'Nodes ready 3/4', '—', 'Leave swarm…', '—', 'Quit Skep']);
    expect(view.menu.filter((item) => item.enabled === false).length).toBe(3);
    for (const item of view.menu) (item.click as (() => void) | undefined)?.();
    expect(done).toEqual(['open', 'leave', 'quit']);
  });

  it('offers no Leave swarm… or counts when not in a swarm', () => {
    const view = trayView(swarmHealth({ state: 'inactive' }), iconsDir, 'darwin', { openWindow: () => undefined, quit: () => undefined, leaveSwarm: () => undefined });
    expect(view.iconPath).toBe(path.join(iconsDir, 'tray-offlineTemplate.png'));
    expect(view.tooltip).toBe('Skep — Not in a swarm');
    expect(labelsOf(view.menu)).toEqual(['Open Skep', '—', 'Not in a swarm', '—', 'Quit Skep']);
  });

  it('follows status events: icon, tooltip and menu change, and a notification on each state change only', () => {
    const tray = new TrayStandIn();
    const notifications: string[] = [];
    const controller = createTrayController({
      tray: tray as never,
      buildMenu: (template) => ({ template }) as unknown as Menu,
      createImage: (iconPath) => ({ path: iconPath }) as unknown as NativeImage,
      notify: (notification) => notifications.push(`${notification.title}: ${notification.body}`),
      iconsDir,
      platform: 'linux',
      actions: { openWindow: () => undefined, quit: () => undefined, leaveSwarm: () => undefined },
    });
    controller.update({ state: 'inactive' });
    expect(tray.image).toBe(path.join(iconsDir, 'tray-offline.png'));
    expect(notifications).toEqual([]);

    controller.update(status(3, 3));
    expect(tray.image).toBe(path.join(iconsDir, 'tray-healthy.png'));
    expect(tray.tooltip).toBe('Skep — Healthy — 3 managers, can lose 1');
    expect(labelsOf(tray.menu)).toContain('Managers reachable 3/3');

    const menusBefore = tray.menuChanges;
    const imagesBefore = tray.imageChanges;
    controller.update(status(3, 3));
    expect(tray.menuChanges).toBe(menusBefore);
    expect(tray.imageChanges).toBe(imagesBefore);

    controller.update(status(3, 2));
    expect(tray.image).toBe(path.join(iconsDir, 'tray-degraded.png'));
    controller.update(status(3, 1));
    expect(tray.image).toBe(path.join(iconsDir, 'tray-critical.png'));
    expect(tray.tooltip).toBe("Skep — Quorum lost — 1 of 3 managers reachable; the swarm can't change");
    controller.stopped();
    expect(tray.image).toBe(path.join(iconsDir, 'tray-offline.png'));
    expect(tray.tooltip).toBe('Skep — Skep is stopped');
    expect(notifications.map((n) => n.split(':')[0])).toEqual(['Swarm healthy', 'Swarm degraded', 'Swarm in trouble', 'Not in a swarm']);
    expect(notifications[2]).toContain("Quorum lost — 1 of 3 managers reachable; the swarm can't change");
  });
});

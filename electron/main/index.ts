// The Electron shell: one window, a tray, the embedded node. Everything with logic lives in the
// modules beside this file; this one only connects them to Electron's objects.
import { app, BrowserWindow, ipcMain, Menu, nativeImage, Notification, safeStorage, session, Tray } from 'electron';
import electronUpdater from 'electron-updater';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureDataDir } from '../agent/data-dir.js';
import { SkepDaemon } from '../node/daemon.js';
import type { SkepEvent } from '../../shared/api.js';
import { IPC_EVENT_CHANNEL } from '../../shared/bridge.js';
import { registerIpc } from './ipc.js';
import { safeStorageSealer } from './secret-sealer.js';
import { unlockKeychain } from './unlock-keychain.js';
import { applicationMenuTemplate, type MenuActions } from './menus.js';
import { applyContentSecurityPolicy, denyAllPermissions, hardenWebContents, secureWebPreferences } from './security.js';
import { createTrayController, trayIconPath } from './tray.js';
import { hasUpdateFeed, startUpdateChecks, type UpdateChecks } from './updates.js';
import { keepAliveInTray, showWindow, type QuitState } from './window-lifecycle.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererDir = path.join(here, '..', 'renderer');
const preloadPath = path.join(here, '..', 'preload', 'index.cjs');
const iconsDir = path.join(here, '..', 'icons');
const appBaseUrl = pathToFileURL(rendererDir).href;

const quitState: QuitState = { quitting: false };
let mainWindow: BrowserWindow | undefined;
let tray: Tray | undefined;
let updates: UpdateChecks | undefined;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow) showWindow(mainWindow);
  });
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, appBaseUrl));
  app.on('before-quit', () => {
    quitState.quitting = true;
  });
  app.whenReady().then(start, (error: unknown) => {
    console.error('Skep could not start:', error);
    app.exit(1);
  });
}

async function start(): Promise<void> {
  applyContentSecurityPolicy(session.defaultSession);
  denyAllPermissions(session.defaultSession);

  // The node starts before the window so the first paint already has real data.
  const dataDir = await ensureDataDir(path.join(app.getPath('userData'), 'node'));
  const sealer = safeStorageSealer(safeStorage);
  const daemon = new SkepDaemon({ dataDir, ...(sealer ? { secretSealer: sealer } : {}) });
  await daemon.start();
  // An autolocked manager: unlocked with the key the person chose to keep in the keychain, if any.
  const keychain = unlockKeychain(daemon, sealer, path.join(app.getPath('userData'), 'unlock-key.sealed'));
  await keychain.unlockAtStart().catch((error: unknown) => console.warn('Skep could not unlock with the remembered key:', error));
  const service = keychain.service;
  const unregisterIpc = registerIpc({
    ipcMain,
    service,
    appBaseUrl,
    recipients: () => BrowserWindow.getAllWindows().map((window) => window.webContents),
  });
  // Quit waits for the node to stop: Raft's storage is closed, nothing acknowledged is lost.
  let stopped = false;
  app.on('will-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    unregisterIpc();
    // No tray update here: a "Not in a swarm" notification while quitting would only be noise.
    unsubscribeTray();
    updates?.stop();
    void daemon.stop().finally(() => {
      stopped = true;
      app.quit();
    });
  });

  const actions: MenuActions = {
    openWindow: () => showWindow(mainWindow ?? createWindow()),
    quit: () => app.quit(),
    // The leave warnings (last manager, quorum) are the renderer's dialogs: open the window there.
    leaveSwarm: () => {
      const window = mainWindow ?? createWindow();
      void window.loadFile(path.join(rendererDir, 'index.html'), { hash: '/swarm/leave' });
      showWindow(window);
    },
    installUpdate: () => updates?.installNow(),
  };
  Menu.setApplicationMenu(Menu.buildFromTemplate(applicationMenuTemplate(process.platform, actions)));
  tray = new Tray(nativeImage.createFromPath(trayIconPath(iconsDir, 'offline', process.platform)));
  tray.on('click', actions.openWindow);
  const trayController = createTrayController({
    tray,
    buildMenu: (template) => Menu.buildFromTemplate(template),
    createImage: (iconPath) => nativeImage.createFromPath(iconPath),
    notify: ({ title, body }) => {
      if (Notification.isSupported()) new Notification({ title, body }).show();
    },
    iconsDir,
    platform: process.platform,
    actions,
  });
  // Pushed when the status changes (at most every second), so the tray follows without polling.
  const unsubscribeTray = service.subscribe((event) => {
    if (event.type === 'swarm.status') trayController.update(event.payload);
  });
  trayController.update(await service.getSwarmStatus().catch(() => undefined));

  createWindow();
  app.on('activate', actions.openWindow);

  // A build made without SKEP_UPDATE_URL (and `npm start`) has no feed, and never looks.
  if (hasUpdateFeed(process.resourcesPath)) {
    updates = startUpdateChecks({
      updater: electronUpdater.autoUpdater,
      log: (message) => console.warn(message),
      onNotice: (notice) => {
        trayController.updateAvailable(notice);
        sendToWindows({ type: 'app.update', payload: notice });
      },
    });
  }
}

/** Events from the shell itself (not from the node), on the same channel as the node's. */
function sendToWindows(event: SkepEvent): void {
  for (const window of BrowserWindow.getAllWindows()) {
    if (!window.webContents.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, event);
  }
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Skep',
    webPreferences: secureWebPreferences(preloadPath),
  });
  keepAliveInTray(window, quitState);
  window.once('ready-to-show', () => window.show());
  // A window opened after the updater spoke (or reloaded) still learns of the newer Skep.
  window.webContents.on('did-finish-load', () => {
    const notice = updates?.notice;
    if (notice) window.webContents.send(IPC_EVENT_CHANNEL, { type: 'app.update', payload: notice } satisfies SkepEvent);
  });
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined;
  });
  void window.loadFile(path.join(rendererDir, 'index.html'));
  mainWindow = window;
  return window;
}

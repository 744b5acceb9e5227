// The tray: an icon per health state, the one-line summary as tooltip, the menu, and a desktop
// notification when the state changes. Electron's objects come in as parameters, so all of it is
// unit-tested in Node with stand-ins.
import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import path from 'node:path';
import { healthNotification, stoppedHealth, swarmHealth, type Health, type HealthNotification, type HealthState } from '../../shared/health.js';
import type { SwarmStatus } from '../../shared/types.js';
import { updateShortText, type UpdateNotice } from '../../shared/update-notice.js';
import { trayMenuTemplate, type MenuActions } from './menus.js';

export interface TrayView {
  readonly iconPath: string;
  readonly tooltip: string;
  readonly menu: MenuItemConstructorOptions[];
}

/**
 * macOS draws menu-bar icons from black-and-alpha "Template" images it recolours for light and
 * dark bars; elsewhere the coloured icon is used (its shape tells the state without colour).
 * Electron picks the @2x file beside it by itself.
 */
export function trayIconPath(iconsDir: string, state: HealthState, platform: NodeJS.Platform): string {
  return path.join(iconsDir, platform === 'darwin' ? `tray-${state}Template.png` : `tray-${state}.png`);
}

export function trayView(health: Health, iconsDir: string, platform: NodeJS.Platform, actions: MenuActions, update?: UpdateNotice): TrayView {
  return {
    iconPath: trayIconPath(iconsDir, health.state, platform),
    tooltip: update ? `Skep — ${health.sentence} · ${updateShortText(update)}` : `Skep — ${health.sentence}`,
    menu: trayMenuTemplate(actions, health, update),
  };
}

export interface TrayControllerOptions {
  readonly tray: Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu'>;
  readonly buildMenu: (template: MenuItemConstructorOptions[]) => Menu;
  readonly createImage: (iconPath: string) => NativeImage;
  readonly notify: (notification: HealthNotification) => void;
  readonly iconsDir: string;
  readonly platform: NodeJS.Platform;
  readonly actions: MenuActions;
}

export interface TrayController {
  /** The node's latest status (the 'swarm.status' event); `undefined` when it isn't answering. */
  update(status: SwarmStatus | undefined): void;
  /** The embedded node stopped (the app is quitting or it failed). */
  stopped(): void;
  /** A newer Skep was found or downloaded (electron/main/updates.ts). */
  updateAvailable(notice: UpdateNotice): void;
  readonly health: Health | undefined;
}

export function createTrayController(options: TrayControllerOptions): TrayController {
  let current: Health | undefined;
  let update: UpdateNotice | undefined;
  let shownIcon: string | undefined;
  let shownMenuKey: string | undefined;

  function show(next: Health): void {
    const notification = healthNotification(current, next);
    current = next;
    const view = trayView(next, options.iconsDir, options.platform, options.actions, update);
    if (view.iconPath !== shownIcon) {
      options.tray.setImage(options.createImage(view.iconPath));
      shownIcon = view.iconPath;
    }
    options.tray.setToolTip(view.tooltip);
    // Rebuilding a native menu every second while nothing changed flickers an open menu on Linux.
    const menuKey = view.menu.map((item) => `${item.type ?? ''}:${item.label ?? ''}`).join('|');
    if (menuKey !== shownMenuKey) {
      options.tray.setContextMenu(options.buildMenu(view.menu));
      shownMenuKey = menuKey;
    }
    if (notification) options.notify(notification);
  }

  return {
    update: (status) => show(swarmHealth(status)),
    stopped: () => show(stoppedHealth()),
    updateAvailable: (notice) => {
      update = notice;
      // Before the first status the tray shows "stopped"; an update doesn't change that.
      show(current ?? stoppedHealth());
    },
    get health() {
      return current;
    },
  };
}

// Menu templates as plain data, so they are testable without Electron.
import type { MenuItemConstructorOptions } from 'electron';
import { reachabilityLines, type Health } from '../../shared/health.js';
import { RESTART_TO_UPDATE_LABEL, updateShortText, type UpdateNotice } from '../../shared/update-notice.js';

export interface MenuActions {
  openWindow(): void;
  quit(): void;
  /** Opens the window at the leave flow, whose warnings live in the renderer. */
  leaveSwarm?(): void;
  /** Quits and installs a downloaded update (electron/main/updates.ts); only ever on a click. */
  installUpdate?(): void;
}

/**
 * The tray menu; with `health`, also the swarm's one-line summary, its counts and Leave swarm…;
 * with `update`, the newer Skep and, once it is downloaded, Restart to update.
 */
export function trayMenuTemplate(actions: MenuActions, health?: Health, update?: UpdateNotice): MenuItemConstructorOptions[] {
  const template: MenuItemConstructorOptions[] = [{ label: 'Open Skep', click: () => actions.openWindow() }];
  if (health) {
    const lines = reachabilityLines(health);
    const inSwarm = health.level !== 'not-in-swarm';
    template.push(
      { type: 'separator' },
      { label: health.sentence, enabled: false },
      ...(inSwarm && health.level !== 'worker'
        ? [{ label: lines.managers, enabled: false }, { label: lines.nodes, enabled: false }]
        : []),
    );
    if (inSwarm && actions.leaveSwarm) {
      const leave = actions.leaveSwarm;
      template.push({ type: 'separator' }, { label: 'Leave swarm…', click: () => leave() });
    }
  }
  if (update) {
    const install = actions.installUpdate;
    template.push(
      { type: 'separator' },
      update.ready && install
        ? { label: `${RESTART_TO_UPDATE_LABEL} (Skep ${update.version})`, click: () => install() }
        : { label: updateShortText(update), enabled: false },
    );
  }
  template.push({ type: 'separator' }, { label: 'Quit Skep', click: () => actions.quit() });
  return template;
}

export function applicationMenuTemplate(platform: NodeJS.Platform, actions: MenuActions): MenuItemConstructorOptions[] {
  const template: MenuItemConstructorOptions[] = [];
  if (platform === 'darwin') {
    template.push({
      label: 'Skep',
      submenu: [{ role: 'about' }, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { label: 'Quit Skep', accelerator: 'Command+Q', click: () => actions.quit() }],
    });
  } else {
    template.push({ label: 'File', submenu: [{ label: 'Close Window', role: 'close' }, { label: 'Quit Skep', accelerator: 'Ctrl+Q', click: () => actions.quit() }] });
  }
  template.push(
    { label: 'Edit', submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    { label: 'View', submenu: [{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }] },
    { label: 'Window', submenu: [{ role: 'minimize' }, { label: 'Show Skep', click: () => actions.openWindow() }] },
  );
  return template;
}

// Menu templates as plain data, so they are testable without Electron.
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openWindow(): void;
  quit(): void;
}

export function trayMenuTemplate(actions: MenuActions): MenuItemConstructorOptions[] {
  return [
    { label: 'Open Skep', click: () => actions.openWindow() },
    { type: 'separator' },
    { label: 'Quit Skep', click: () => actions.quit() },
  ];
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

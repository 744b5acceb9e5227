// Closing the window hides it: the node keeps running and the tray stays. Only Quit ends the app.
import type { BrowserWindow } from 'electron';

export interface QuitState {
  quitting: boolean;
}

export function keepAliveInTray(window: Pick<BrowserWindow, 'on' | 'hide'>, state: QuitState): void {
  window.on('close', (event) => {
    if (state.quitting) return;
    event.preventDefault();
    window.hide();
  });
}

export function showWindow(window: Pick<BrowserWindow, 'isMinimized' | 'restore' | 'show' | 'focus'>): void {
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

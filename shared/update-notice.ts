// A newer Skep found by the desktop app's updater (electron/main/updates.ts), in the words the
// tray and the window both show, so they never disagree. Pure: notice in, words out.

/** Pushed as the 'app.update' event. `ready`: downloaded and verified, waiting for the person. */
export interface UpdateNotice {
  readonly version: string;
  readonly ready: boolean;
}

/** The tray menu item that installs a ready update; nothing else ever restarts the app. */
export const RESTART_TO_UPDATE_LABEL = 'Restart to update';

/** The one sentence for the window's notice. */
export function updateSentence(notice: UpdateNotice): string {
  return notice.ready
    ? `Skep ${notice.version} is ready to install: choose "${RESTART_TO_UPDATE_LABEL}" in the tray menu when it suits you (this stops the node on this machine for a moment).`
    : `Skep ${notice.version} is available and downloading; Skep will not restart on its own.`;
}

/** The short form for the tray's tooltip and its menu. */
export function updateShortText(notice: UpdateNotice): string {
  return notice.ready ? `Update ready: Skep ${notice.version}` : `Update available: Skep ${notice.version}`;
}

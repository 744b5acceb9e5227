// Updates of the desktop app with electron-updater, from the generic feed `npm run dist` wrote
// into the app (resources/app-update.yml; a home lab may host its own). Checks at start and
// daily, downloads in the background, and tells the tray and the window. It never restarts the
// app and never installs on quit: quitting stops this machine's node, and a swarm's manager
// should go down only when its person chooses "Restart to update". Electron's objects come in as
// parameters, so this is unit-tested in Node with stand-ins.
import type { AppUpdater, UpdateDownloadedEvent, UpdateInfo } from 'electron-updater';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { UpdateNotice } from '../../shared/update-notice.js';

export const UPDATE_CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000;

/** The file electron-builder writes into the resources when the build had a feed URL. */
export const UPDATE_CONFIG_FILE = 'app-update.yml';

/** The part of electron-updater's AppUpdater this module uses. */
export type Updater = Pick<AppUpdater, 'autoDownload' | 'autoInstallOnAppQuit' | 'checkForUpdates' | 'quitAndInstall'> & {
  on(event: 'update-available', listener: (info: UpdateInfo) => void): unknown;
  on(event: 'update-downloaded', listener: (event: UpdateDownloadedEvent) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
};

export interface Timers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface UpdateChecksOptions {
  readonly updater: Updater;
  /** Told each time what there is to show changes (a newer version found, then downloaded). */
  readonly onNotice: (notice: UpdateNotice) => void;
  readonly log: (message: string) => void;
  readonly timers?: Timers;
}

export interface UpdateChecks {
  /** What the tray and the window show now; undefined while this Skep is the newest. */
  readonly notice: UpdateNotice | undefined;
  /** Quits and installs the downloaded update; does nothing until one is ready. */
  installNow(): void;
  stop(): void;
}

/** Whether this build has an update feed (a build without SKEP_UPDATE_URL has none). */
export function hasUpdateFeed(resourcesPath: string): boolean {
  return existsSync(path.join(resourcesPath, UPDATE_CONFIG_FILE));
}

export function startUpdateChecks(options: UpdateChecksOptions): UpdateChecks {
  const { updater } = options;
  const timers: Timers = options.timers ?? {
    setInterval: (callback, ms) => setInterval(callback, ms),
    clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
  };
  updater.autoDownload = true;
  updater.autoInstallOnAppQuit = false;

  let notice: UpdateNotice | undefined;
  function show(next: UpdateNotice): void {
    if (notice?.version === next.version && notice.ready === next.ready) return;
    notice = next;
    options.onNotice(next);
  }
  updater.on('update-available', (info) => {
    // A daily check finds the same version again while (or after) it downloads: not news.
    if (notice?.version !== info.version) show({ version: info.version, ready: false });
  });
  updater.on('update-downloaded', (event) => show({ version: event.version, ready: true }));
  // An unreachable feed (a laptop away from home, a lab server that's off) is normal: log it only.
  updater.on('error', (error) => options.log(`Update check failed: ${firstLine(error)}`));

  function check(): void {
    // A failed check also emits 'error' (logged above); the rejection carries nothing more.
    updater.checkForUpdates().catch(() => undefined);
  }
  check();
  const daily = timers.setInterval(check, UPDATE_CHECK_INTERVAL_MS);

  return {
    get notice() {
      return notice;
    },
    installNow() {
      if (notice?.ready) updater.quitAndInstall();
    },
    stop() {
      timers.clearInterval(daily);
    },
  };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.slice(0, 300) ?? '';
}

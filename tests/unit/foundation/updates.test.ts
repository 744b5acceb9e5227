// The desktop app's updates (electron/main/updates.ts) driven through a stand-in for
// electron-updater's AppUpdater — the real one needs a packaged Electron app — and what the tray
// and the window show for them.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Menu, MenuItemConstructorOptions, NativeImage } from 'electron';
import { describe, expect, it } from 'vitest';
import { trayMenuTemplate } from '../../../electron/main/menus.js';
import { createTrayController } from '../../../electron/main/tray.js';
import { hasUpdateFeed, startUpdateChecks, UPDATE_CHECK_INTERVAL_MS, type Timers, type Updater } from '../../../electron/main/updates.js';
import { updateSentence, type UpdateNotice } from '../../../shared/update-notice.js';

/** Stand-in for electron-updater's AppUpdater: counts checks and installs; the test emits its events. */
class UpdaterStandIn extends EventEmitter {
  autoDownload = true;
  autoInstallOnAppQuit = true;
  checks = 0;
  installs = 0;
  failNextCheck: Error | undefined;
  checkForUpdates(): Promise<null> {
    this.checks += 1;
    const failure = this.failNextCheck;
    this.failNextCheck = undefined;
    if (failure) {
      // As electron-updater does: the failure is emitted as 'error' and the promise rejects.
      this.emit('error', failure);
      return Promise.reject(failure);
    }
    return Promise.resolve(null);
  }
  quitAndInstall(): void {
    this.installs += 1;
  }
}

/** Timers the test fires by hand, so "daily" needs no waiting. */
class ManualTimers implements Timers {
  callbacks = new Map<number, { callback: () => void; ms: number }>();
  private next = 1;
  setInterval(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.callbacks.set(id, { callback, ms });
    return id;
  }
  clearInterval(handle: unknown): void {
    this.callbacks.delete(handle as number);
  }
  fireAll(): void {
    for (const { callback } of this.callbacks.values()) callback();
  }
}

function start() {
  const updater = new UpdaterStandIn();
  const timers = new ManualTimers();
  const notices: UpdateNotice[] = [];
  const logs: string[] = [];
  const checks = startUpdateChecks({ updater: updater as unknown as Updater, onNotice: (notice) => notices.push(notice), log: (line) => logs.push(line), timers });
  return { updater, timers, notices, logs, checks };
}

describe('update checks', () => {
  it('downloads in the background, never installs on quit, and checks at start and daily', () => {
    const { updater, timers, checks } = start();
    expect(updater.autoDownload).toBe(true);
    expect(updater.autoInstallOnAppQuit).toBe(false);
    expect(updater.checks).toBe(1);
    expect([...timers.callbacks.values()].map((timer) => timer.ms)).toEqual([UPDATE_CHECK_INTERVAL_MS]);
    expect(UPDATE_CHECK_INTERVAL_MS).toBe(24 * 60 * 60 * 1000);
    timers.fireAll();
    timers.fireAll();
    expect(updater.checks).toBe(3);
    checks.stop();
    expect(timers.callbacks.size).toBe(0);
  });

  it('tells of a newer version once, then again when it is downloaded, and never restarts on its own', () => {
    const { updater, timers, notices, checks } = start();
    updater.emit('update-available', { version: '0.2.0' });
    timers.fireAll();
    updater.emit('update-available', { version: '0.2.0' });
    expect(notices).toEqual([{ version: '0.2.0', ready: false }]);
    checks.installNow();
    expect(updater.installs).toBe(0);

    updater.emit('update-downloaded', { version: '0.2.0' });
    // The daily check finds the downloaded version again: still ready, nothing new to say.
    updater.emit('update-available', { version: '0.2.0' });
    expect(notices).toEqual([{ version: '0.2.0', ready: false }, { version: '0.2.0', ready: true }]);
    expect(checks.notice).toEqual({ version: '0.2.0', ready: true });
    expect(updater.installs).toBe(0);

    checks.installNow();
    expect(updater.installs).toBe(1);

    updater.emit('update-available', { version: '0.3.0' });
    expect(checks.notice).toEqual({ version: '0.3.0', ready: false });
  });

  it('logs a failed check once and keeps checking', async () => {
    const { updater, timers, logs, notices } = start();
    updater.failNextCheck = new Error('net::ERR_NAME_NOT_RESOLVED\n    at a stack line');
    timers.fireAll();
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs).toEqual(['Update check failed: net::ERR_NAME_NOT_RESOLVED']);
    timers.fireAll();
    expect(updater.checks).toBe(3);
    expect(notices).toEqual([]);
  });

  it('looks only where the build wrote a feed (app-update.yml in the resources)', () => {
    const resources = mkdtempSync(path.join(os.tmpdir(), 'skep-resources-'));
    try {
      expect(hasUpdateFeed(resources)).toBe(false);
      writeFileSync(path.join(resources, 'app-update.yml'), 'provider: generic\nurl: https://nas.lan/skep\n');
      expect(hasUpdateFeed(resources)).toBe(true);
    } finally {
      rmSync(resources, { recursive: true, force: true });
    }
  });
});

function labelsOf(template: MenuItemConstructorOptions[]): string[] {
  return template.map((item) => (item.type === 'separator' ? '—' : (item.label ?? '')));
}

describe('update available, in the tray and the window', () => {
  it('shows the newer version in the tray menu, and Restart to update once it is downloaded', () => {
    let installs = 0;
    const actions = { openWindow: () => undefined, quit: () => undefined, installUpdate: () => (installs += 1) };
    const available = trayMenuTemplate(actions, undefined, { version: '0.2.0', ready: false });
    expect(labelsOf(available)).toEqual(['Open Skep', '—', 'Update available: Skep 0.2.0', '—', 'Quit Skep']);
    expect(available[2]?.enabled).toBe(false);

    const ready = trayMenuTemplate(actions, undefined, { version: '0.2.0', ready: true });
    expect(labelsOf(ready)).toEqual(['Open Skep', '—', 'Restart to update (Skep 0.2.0)', '—', 'Quit Skep']);
    (ready[2]?.click as (() => void) | undefined)?.();
    expect(installs).toBe(1);
  });

  it('adds the update to the tooltip and menu without touching the health shown', () => {
    const tray = { tooltip: '', menu: [] as MenuItemConstructorOptions[], setImage: () => undefined, setToolTip(text: string) { this.tooltip = text; }, setContextMenu(menu: Menu) { this.menu = (menu as unknown as { template: MenuItemConstructorOptions[] }).template; } };
    const controller = createTrayController({
      tray: tray as never,
      buildMenu: (template) => ({ template }) as unknown as Menu,
      createImage: (iconPath) => ({ path: iconPath }) as unknown as NativeImage,
      notify: () => undefined,
      iconsDir: '/icons',
      platform: 'linux',
      actions: { openWindow: () => undefined, quit: () => undefined, installUpdate: () => undefined },
    });
    controller.update({ state: 'inactive' });
    controller.updateAvailable({ version: '0.2.0', ready: false });
    expect(tray.tooltip).toBe('Skep — Not in a swarm · Update available: Skep 0.2.0');
    expect(labelsOf(tray.menu)).toContain('Update available: Skep 0.2.0');
    expect(controller.health?.level).toBe('not-in-swarm');
    controller.updateAvailable({ version: '0.2.0', ready: true });
    expect(labelsOf(tray.menu)).toContain('Restart to update (Skep 0.2.0)');
  });

  it("says in the window what there is and that nothing restarts on its own", () => {
    expect(updateSentence({ version: '0.2.0', ready: false })).toBe('Skep 0.2.0 is available and downloading; Skep will not restart on its own.');
    expect(updateSentence({ version: '0.2.0', ready: true })).toBe('Skep 0.2.0 is ready to install: choose "Restart to update" in the tray menu when it suits you (this stops the node on this machine for a moment).');
  });
});

// Finds Electron's binary without triggering its lazy download (requiring 'electron' downloads),
// and fetches it on request: `npm start` and `npm run dist` need it, `npm install` doesn't (its
// install script is denied in package.json's allowScripts: offline, it would fail the install).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const DOWNLOAD_TIMEOUT_MS = 5 * 60 * 1000;

function electronPackageDir() {
  try {
    return path.dirname(require.resolve('electron/package.json'));
  } catch {
    return undefined;
  }
}

/** The installed binary's path, or undefined when the package or its binary is missing. */
export function installedElectronBinary() {
  const packageDir = electronPackageDir();
  if (!packageDir) return undefined;
  const pathFile = path.join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const binary = path.join(packageDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : undefined;
}

/** The unpacked Electron (node_modules/electron/dist) when its binary is there, for electron-builder. */
export function installedElectronDist() {
  const packageDir = electronPackageDir();
  return packageDir && installedElectronBinary() ? path.join(packageDir, 'dist') : undefined;
}

/**
 * Runs Electron's own install script (the download npm was told not to run). Resolves to
 * undefined once the binary is installed, or to the reason it isn't, as a clause for a sentence.
 * @returns {string | undefined}
 */
export function fetchElectronBinary() {
  if (installedElectronBinary()) return undefined;
  let installScript;
  try {
    installScript = require.resolve('electron/install.js');
  } catch {
    return 'the electron package is not installed (run "npm install")';
  }
  const result = spawnSync(process.execPath, [installScript], { stdio: ['ignore', 'ignore', 'pipe'], timeout: DOWNLOAD_TIMEOUT_MS, encoding: 'utf8' });
  if (result.status === 0 && installedElectronBinary()) return undefined;
  const firstLine = (result.stderr ?? '').trim().split('\n').find(Boolean) ?? result.error?.message ?? `exit status ${result.status}`;
  return `its download failed: ${firstLine.trim().slice(0, 200)}`;
}

// `npm start`: the desktop app where Electron's binary can be had, browser mode where it can't.
// npm 11 blocks dependencies' install scripts unless approved (package.json "allowScripts"), and
// Electron's is denied on purpose: it downloads a binary, which fails on offline machines and
// would fail the whole `npm install`. So the download happens here, on first start, and its
// failure is a fallback, not an error.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fetchElectronBinary, installedElectronBinary as electronBinary } from './electron-binary.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function downloadElectron() {
  if (process.env.SKEP_BROWSER_MODE === '1') return 'SKEP_BROWSER_MODE=1 asks for browser mode';
  console.log('Fetching Electron\'s binary (first start only)…');
  return fetchElectronBinary();
}

if (!existsSync(path.join(root, 'out', 'cli', 'skep.mjs')) || !existsSync(path.join(root, 'out', 'renderer', 'index.html'))) {
  const build = spawnSync(process.execPath, [path.join(root, 'build/scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

let binary = process.env.SKEP_BROWSER_MODE === '1' ? undefined : electronBinary();
let whyNot;
if (!binary) {
  whyNot = downloadElectron();
  binary = whyNot === undefined ? electronBinary() : undefined;
}

const child = binary
  ? spawn(binary, [root], { stdio: 'inherit' })
  : spawn(process.execPath, [path.join(root, 'out/cli/skep.mjs'), 'ui', '--reason',
      `No window opened: Electron's binary is not installed on this machine (${whyNot}), so Skep serves the same window to your browser instead.`], { stdio: 'inherit' });

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));

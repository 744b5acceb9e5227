// `npm run dist`: the installers for this platform (AppImage and .deb on Linux, dmg on macOS,
// nsis on Windows) in dist/. Everything electron-builder would download is fetched up front —
// Electron's binary, and on Linux the AppImage tools and fpm — so a machine that can't have them
// is told so in one sentence before anything is built. electron-builder writes into a staging
// folder that is moved into dist/ only when every installer is made: a failure leaves no half.
//
// SKEP_UPDATE_URL sets the generic update feed the app checks (a home lab may host its own);
// SKEP_DIST_DIR puts the installers somewhere other than dist/.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { distConfig, loadBuilderConfig, platformTargets, projectRoot, updateFeedFromEnv, UPDATE_URL_ENV } from './dist-config.mjs';
import { fetchElectronBinary, installedElectronDist } from './electron-binary.mjs';

const require = createRequire(import.meta.url);

/** Ends the run with one sentence and a non-zero status. */
function stop(sentence) {
  console.error(`Can't package Skep: ${sentence}`);
  process.exit(1);
}

const firstLine = (error) => (error instanceof Error ? error.message : String(error)).trim().split('\n').find(Boolean)?.slice(0, 240) ?? 'unknown error';

const config = loadBuilderConfig();
const targets = platformTargets(config, process.platform);
if (!targets) stop(`electron-builder makes installers on Linux, macOS and Windows, not on ${process.platform}.`);

const feed = updateFeedFromEnv(process.env);
if (feed.error) stop(feed.error);

if (!installedElectronDist()) console.log("Fetching Electron's binary (once; npm start uses it too)…");
const electronMissing = fetchElectronBinary();
const electronDist = installedElectronDist();
if (electronMissing || !electronDist) {
  stop(`electron-builder needs Electron's binary, which is not installed here and ${electronMissing ?? 'could not be found'} — run "npm run dist" on a machine that can download it from github.com (or set ELECTRON_MIRROR to a mirror of Electron's releases).`);
}

const { Arch, archFromString, build, Platform } = await import('electron-builder');
const arch = archFromString(process.arch);

// The tools electron-builder would otherwise download halfway through: fetched (or found in its
// cache, or where USE_SYSTEM_FPM / CUSTOM_FPM_PATH / APPIMAGE_TOOLS_PATH point) before building.
if (process.platform === 'linux') {
  const linuxTools = require('app-builder-lib/out/toolsets/linux.js');
  try {
    if (targets.includes('deb')) await linuxTools.getFpmPath();
    if (targets.includes('AppImage')) await linuxTools.getAppImageTools(config.toolsets?.appimage ?? '0.0.0', arch);
  } catch (error) {
    stop(`electron-builder's tools for AppImage and .deb (fpm, mksquashfs and the AppImage runtime) are not in its cache and could not be downloaded (${firstLine(error)}) — run "npm run dist" where github.com is reachable, or set ELECTRON_BUILDER_BINARIES_MIRROR.`);
  }
}

const built = spawnSync(process.execPath, [path.join(projectRoot, 'build/scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
if (built.status !== 0) stop('"npm run build" failed (its errors are above).');

const output = path.resolve(projectRoot, process.env.SKEP_DIST_DIR ?? config.directories?.output ?? 'dist');
const staging = path.join(path.dirname(output), `.${path.basename(output)}-partial-${randomBytes(4).toString('hex')}`);
const cleanUpStaging = () => rm(staging, { recursive: true, force: true });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void cleanUpStaging().finally(() => process.exit(1)));
}

try {
  await build({
    projectDir: projectRoot,
    targets: Platform.current().createTarget(targets, arch),
    config: distConfig(config, { updateUrl: feed.url, electronDist, output: staging }),
    publish: 'never',
  });
} catch (error) {
  await cleanUpStaging();
  stop(`electron-builder stopped: ${firstLine(error)}`);
}

await mkdir(output, { recursive: true });
const made = await readdir(staging);
for (const name of made) {
  await rm(path.join(output, name), { recursive: true, force: true });
  await rename(path.join(staging, name), path.join(output, name));
}
await cleanUpStaging();

console.log(`Installers for ${Platform.current().name} ${Arch[arch]} (${targets.join(', ')}) are in ${path.relative(process.cwd(), output) || '.'}/.`);
console.log(feed.url
  ? `The app checks ${feed.url} for updates: publish the installers with the latest*.yml files there.`
  : `No update feed: ${UPDATE_URL_ENV} was not set, so this build never looks for updates.`);

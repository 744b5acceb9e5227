// The pure half of `npm run dist`: the electron-builder configuration it packages with, made from
// build/electron-builder.yml plus what is only known at build time. The tests validate exactly
// this with electron-builder's own schema (tests/unit/foundation/packaging.test.ts).
import { load } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const builderConfigPath = path.join(projectRoot, 'build', 'electron-builder.yml');

/** Where electron-updater looks: the env variable that sets the generic feed at build time. */
export const UPDATE_URL_ENV = 'SKEP_UPDATE_URL';

const PLATFORM_KEYS = { linux: 'linux', darwin: 'mac', win32: 'win' };

/** build/electron-builder.yml as data. */
export function loadBuilderConfig(file = builderConfigPath) {
  return load(readFileSync(file, 'utf8'));
}

/**
 * The targets the configuration names for this platform (linux: AppImage and deb, darwin: dmg,
 * win32: nsis), or undefined on a platform electron-builder can't package for.
 */
export function platformTargets(config, platform) {
  const key = PLATFORM_KEYS[platform];
  const target = key ? config[key]?.target : undefined;
  return target ? [target].flat().map((t) => (typeof t === 'string' ? t : t.target)) : undefined;
}

/**
 * The update feed from SKEP_UPDATE_URL: `{ url }`, `{}` when unset (a build that never looks for
 * updates), or `{ error }` with a sentence when it is not an http(s) URL or carries credentials.
 */
export function updateFeedFromEnv(env) {
  const raw = env[UPDATE_URL_ENV]?.trim();
  if (!raw) return {};
  let url;
  try {
    url = new URL(raw);
  } catch {
    return { error: `${UPDATE_URL_ENV} is not a URL: "${raw.slice(0, 200)}".` };
  }
  // electron-builder writes the feed into every installer (resources/app-update.yml).
  if (url.username || url.password) return { error: `${UPDATE_URL_ENV} must not hold a user name or password: it is written into every installer.` };
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { error: `${UPDATE_URL_ENV} must be an http or https URL, not "${raw.slice(0, 200)}".` };
  return { url: url.href };
}

/**
 * What electron-builder removes from an Electron it downloaded but leaves in an unpacked one
 * (`electronDist`): Electron's demo app, which would otherwise ship beside ours, and its version file.
 */
async function removeElectronDemoApp({ appOutDir }) {
  const leftovers = ['resources/default_app.asar', 'Electron.app/Contents/Resources/default_app.asar', 'version'];
  await Promise.all(leftovers.map((file) => rm(path.join(appOutDir, file), { force: true })));
}

/**
 * The configuration `npm run dist` hands electron-builder: the YAML, the update feed (electron-
 * builder writes it into the app as app-update.yml, which electron-updater reads), the local
 * unpacked Electron (so no Electron zip is downloaded) and the output folder.
 */
export function distConfig(base, { updateUrl, electronDist, output }) {
  const config = structuredClone(base);
  if (updateUrl) config.publish = { provider: 'generic', url: updateUrl };
  if (electronDist) {
    config.electronDist = electronDist;
    config.afterExtract = removeElectronDemoApp;
  }
  if (output) config.directories = { ...config.directories, output };
  return config;
}

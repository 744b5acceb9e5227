// Packaging: build/electron-builder.yml checked by electron-builder's own schema and validation
// code (app-builder-lib), then the app really packaged by electron-builder's `build()` with one
// stand-in — Electron's binary, which can't be downloaded here — so what the app ships (asar,
// agent bundle, update feed, the `skep` command) is read from real output. The installers
// themselves (AppImage, .deb) need tools electron-builder downloads; `npm run dist` is checked
// to refuse cleanly where they can't be had.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Configuration } from 'electron-builder';
import { AGENT_BUNDLE_NAME, AGENT_MANIFEST_NAME, writeAgentBundle, type AgentManifest } from '../../../build/scripts/agent-bundle.mjs';
import { distConfig, loadBuilderConfig, platformTargets, projectRoot, updateFeedFromEnv } from '../../../build/scripts/dist-config.mjs';
import { installedElectronBinary } from '../../../build/scripts/electron-binary.mjs';
import { hasUpdateFeed } from '../../../electron/main/updates.js';

const require = createRequire(import.meta.url);
const builderRequire = createRequire(require.resolve('app-builder-lib/package.json'));
/** electron-builder's own configuration check: the JSON schema in app-builder-lib/scheme.json and the rules beside it. */
const { validateConfiguration } = builderRequire('./out/util/config/config.js') as {
  validateConfiguration(config: Configuration, debugLogger: unknown): Promise<void>;
};
const { DebugLogger } = builderRequire('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
const validate = (config: Configuration): Promise<void> => validateConfiguration(config, new DebugLogger(false));

const packageJson = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string; main: string; allowScripts: Record<string, boolean> };
const config = loadBuilderConfig();
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'skep-packaging-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("build/electron-builder.yml, checked by electron-builder's own validation", () => {
  it('is valid, alone and as npm run dist completes it (feed, local Electron, output)', async () => {
    await expect(validate(config)).resolves.toBeUndefined();
    await expect(validate(distConfig(config, { updateUrl: 'https://updates.lab.example/skep/', electronDist: '/opt/electron', output: '/tmp/out' }))).resolves.toBeUndefined();
  }, 60_000);

  it('fails on an option electron-builder does not know, at the top level or inside a target', async () => {
    await expect(validate({ ...config, autoUpdate: true } as Configuration)).rejects.toThrow(/unknown property 'autoUpdate'/);
    await expect(validate({ ...config, deb: { ...config.deb, startService: true } } as Configuration)).rejects.toThrow(/configuration\.deb/);
    await expect(validate({ ...config, nsis: { ...config.nsis, oneClick: 'sometimes' } } as unknown as Configuration)).rejects.toThrow(/configuration\.nsis\.oneClick should be a boolean/);
  }, 60_000);

  it('makes AppImage and .deb on Linux, dmg (and the zip updates need) on macOS, nsis on Windows, and nothing elsewhere', () => {
    expect(platformTargets(config, 'linux')).toEqual(['AppImage', 'deb']);
    expect(platformTargets(config, 'darwin')).toEqual(['dmg', 'zip']);
    expect(platformTargets(config, 'win32')).toEqual(['nsis']);
    expect(platformTargets(config, 'freebsd')).toBeUndefined();
  });

  it('flips the fuses the Electron security checklist names, and names files that exist', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
    for (const file of [config.icon, config.linux?.icon, config.mac?.icon, config.win?.icon, config.deb?.afterInstall, config.deb?.afterRemove]) {
      expect(typeof file === 'string' && existsSync(path.join(projectRoot, file)), String(file)).toBe(true);
    }
    expect(packageJson.main.startsWith('out/')).toBe(true);
  });

  it('takes the update feed from SKEP_UPDATE_URL, and refuses one that is not http(s) or holds a password', () => {
    expect(updateFeedFromEnv({ SKEP_UPDATE_URL: ' https://nas.lan/skep ' })).toEqual({ url: 'https://nas.lan/skep' });
    expect(updateFeedFromEnv({})).toEqual({});
    expect(updateFeedFromEnv({ SKEP_UPDATE_URL: 'file:///etc' }).error).toMatch(/must be an http or https URL/);
    expect(updateFeedFromEnv({ SKEP_UPDATE_URL: 'not a url' }).error).toMatch(/is not a URL/);
    const withPassword = updateFeedFromEnv({ SKEP_UPDATE_URL: 'https://me:s3cret@nas.lan/skep' }).error ?? '';
    expect(withPassword).toBe('SKEP_UPDATE_URL must not hold a user name or password: it is written into every installer.');
    expect(withPassword).not.toContain('s3cret');
  });

  it('finds the electron-builder functions npm run dist calls to fetch the Linux tools up front', () => {
    const linuxTools = builderRequire('./out/toolsets/linux.js') as Record<string, unknown>;
    expect(typeof linuxTools.getFpmPath, 'app-builder-lib moved getFpmPath: update build/scripts/dist.mjs').toBe('function');
    expect(typeof linuxTools.getAppImageTools, 'app-builder-lib moved getAppImageTools: update build/scripts/dist.mjs').toBe('function');
  });

  it("denies electron-winstaller's install script, as Electron's (Squirrel.Windows isn't a target)", () => {
    expect(packageJson.allowScripts).toMatchObject({ electron: false, 'electron-winstaller': false });
  });
});

describe('the agent bundle the app ships', () => {
  it('is a copy of the CLI bundle with a manifest of what was written', async () => {
    const cliBundle = path.join(scratch, 'skep.mjs');
    writeFileSync(cliBundle, '#!/usr/bin/env node\nconsole.log("agent");\n');
    const agentDir = path.join(scratch, 'agent');
    const manifest = await writeAgentBundle({ cliBundle, agentDir, version: '9.8.7' });
    const written = path.join(agentDir, AGENT_BUNDLE_NAME);
    expect(manifest).toEqual({ version: '9.8.7', sha256: sha256(cliBundle), bytes: statSync(cliBundle).size });
    expect(JSON.parse(readFileSync(path.join(agentDir, AGENT_MANIFEST_NAME), 'utf8'))).toEqual(manifest);
    expect(sha256(written)).toBe(manifest.sha256);
  });

  it('in out/agent (npm run build) matches out/cli/skep.mjs and the package version', () => {
    const cliBundle = path.join(projectRoot, 'out/cli/skep.mjs');
    expect(existsSync(cliBundle), 'out/ is missing: run "npm run build"').toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(projectRoot, 'out/agent', AGENT_MANIFEST_NAME), 'utf8')) as AgentManifest;
    expect(manifest).toEqual({ version: packageJson.version, sha256: sha256(cliBundle), bytes: statSync(cliBundle).size });
    expect(sha256(path.join(projectRoot, 'out/agent', AGENT_BUNDLE_NAME))).toBe(manifest.sha256);
  }, 30_000);
});

/**
 * STAND-IN for Electron's unpacked binary (node_modules/electron/dist), which can't be downloaded
 * here: the same file names, with a shell script where the binary would be. Its fuses can't be
 * flipped (it has no fuse wire), so these builds leave electronFuses out; everything else is
 * electron-builder's real packaging.
 */
function electronStandIn(): string {
  const dir = path.join(scratch, 'electron-stand-in');
  mkdirSync(path.join(dir, 'resources'), { recursive: true });
  writeFileSync(path.join(dir, 'electron'), '#!/bin/sh\necho "stand-in for Electron"\n');
  chmodSync(path.join(dir, 'electron'), 0o755);
  for (const file of ['chrome-sandbox', 'LICENSE', 'LICENSES.chromium.html']) writeFileSync(path.join(dir, file), '');
  // Electron's demo app; a real one is an asar archive, and this one would fail to read as one.
  writeFileSync(path.join(dir, 'resources/default_app.asar'), '');
  writeFileSync(path.join(dir, 'version'), '45.5.0');
  return dir;
}

async function packageApp(output: string, updateUrl: string | undefined): Promise<string> {
  const { Arch, build, Platform } = await import('electron-builder');
  const { electronFuses: _fusesNeedTheRealBinary, ...withoutFuses } = distConfig(config, { updateUrl, electronDist: electronStandIn(), output });
  await build({ projectDir: projectRoot, targets: Platform.LINUX.createTarget('dir', Arch.x64), config: withoutFuses, publish: 'never' });
  return path.join(output, 'linux-unpacked');
}

describe.runIf(process.platform === 'linux')('the packaged app (electron-builder, Electron stood in)', () => {
  const feedUrl = 'https://nas.lab.example/skep/';
  let appDir = '';
  let asarFiles: string[] = [];
  beforeAll(async () => {
    expect(existsSync(path.join(projectRoot, 'out/main/index.mjs')), 'out/ is missing: run "npm run build"').toBe(true);
    appDir = await packageApp(path.join(scratch, 'with-feed'), feedUrl);
    const asar = builderRequire('@electron/asar') as { listPackage(file: string): string[] };
    asarFiles = asar.listPackage(path.join(appDir, 'resources/app.asar')).map((file) => file.split(path.sep).join('/'));
  }, 120_000);

  it('holds the bundles in app.asar, and no node_modules, source maps or second agent copy', () => {
    for (const file of ['/package.json', '/out/main/index.mjs', '/out/preload/index.cjs', '/out/renderer/index.html', '/out/icons/tray-healthy.png']) expect(asarFiles, file).toContain(file);
    expect(asarFiles.filter((file) => file.includes('node_modules') || file.endsWith('.map') || file.startsWith('/out/agent'))).toEqual([]);
    expect(existsSync(path.join(appDir, 'skep-desktop')), 'the app is skep-desktop; skep is the command line').toBe(true);
    expect(existsSync(path.join(appDir, 'resources/default_app.asar')), "Electron's demo app is left out").toBe(false);
    expect(existsSync(path.join(appDir, 'version'))).toBe(false);
  });

  it('ships the agent bundle and its manifest as plain files in resources/agent', () => {
    const agentDir = path.join(appDir, 'resources/agent');
    const manifest = JSON.parse(readFileSync(path.join(agentDir, AGENT_MANIFEST_NAME), 'utf8')) as AgentManifest;
    expect(manifest.version).toBe(packageJson.version);
    expect(sha256(path.join(agentDir, AGENT_BUNDLE_NAME))).toBe(manifest.sha256);
    expect(statSync(path.join(agentDir, AGENT_BUNDLE_NAME)).size).toBe(manifest.bytes);
  }, 30_000);

  it('carries the generic update feed set at build time, which the app finds', () => {
    const feed = readFileSync(path.join(appDir, 'resources/app-update.yml'), 'utf8');
    expect(feed).toMatch(/^provider: generic$/m);
    expect(feed).toContain(`url: ${feedUrl}`);
    expect(hasUpdateFeed(path.join(appDir, 'resources'))).toBe(true);
  });

  it('runs the `skep` command with the system Node.js, and says what is missing without it', () => {
    const command = path.join(appDir, 'resources/bin/skep');
    expect(statSync(command).mode & 0o111).not.toBe(0);
    const version = spawnSync(command, ['--version'], { encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(packageJson.version);

    // A PATH with the shell's helpers but no node.
    const noNode = path.join(scratch, 'path-without-node');
    mkdirSync(noNode, { recursive: true });
    for (const tool of ['dirname', 'readlink']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), path.join(noNode, tool));
    const missing = spawnSync('/bin/sh', [command, '--version'], { encoding: 'utf8', env: { PATH: noNode } });
    expect(missing.status).toBe(127);
    expect(missing.stderr.trim()).toBe('skep: the command line needs Node.js 18 or newer on PATH (on Debian or Ubuntu: sudo apt install nodejs).');
  }, 60_000);

  const canChroot = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v unshare && command -v update-alternatives'], { stdio: 'ignore' }).status === 0;
  if (!canChroot) console.log('skipped the .deb scripts run: it needs root, unshare and update-alternatives (Debian as root, as in CI).');

  it.runIf(canChroot)('installs: the .deb postinst puts skep and skep-desktop on PATH and touches nothing else; postrm takes them away', () => {
    // The .deb itself needs fpm, which can't be downloaded here: its scripts run for real instead,
    // on the packaged app at /opt/Skep, inside a throwaway copy-on-write view of this machine (an
    // overlay of / in a private mount namespace), so the real / is never written.
    const root = mkdtempSync(path.join(os.tmpdir(), 'skep-deb-'));
    try {
      for (const dir of ['upper', 'work', 'merged']) mkdirSync(path.join(root, dir));
      for (const name of ['after-install.tpl', 'after-remove.tpl']) {
        writeFileSync(path.join(root, name.replace('.tpl', '.sh')), readFileSync(path.join(projectRoot, 'build/linux', name), 'utf8').replaceAll('${executable}', 'skep-desktop').replaceAll('${sanitizedProductName}', 'Skep'));
      }
      const inside = [
        'set -e',
        `mount -t overlay overlay -o lowerdir=/,upperdir=${root}/upper,workdir=${root}/work ${root}/merged`,
        `mount --rbind /dev ${root}/merged/dev && mount --bind /proc ${root}/merged/proc`,
        `cp -a ${appDir} ${root}/merged/opt/Skep`,
        `chroot ${root}/merged bash ${root}/after-install.sh > /dev/null`,
        `echo "skep=$(chroot ${root}/merged readlink -f /usr/bin/skep)"`,
        `echo "skep-desktop=$(chroot ${root}/merged readlink -f /usr/bin/skep-desktop)"`,
        `echo "version=$(chroot ${root}/merged /usr/bin/skep --version)"`,
        `(cd ${root}/upper && find . -type f -o -type l) | sed 's|^\\./|changed=|' | grep -v '^changed=opt/Skep/'`,
        `chroot ${root}/merged bash ${root}/after-remove.sh > /dev/null`,
        `echo "after-remove=$(chroot ${root}/merged sh -c 'ls /usr/bin/skep /usr/bin/skep-desktop 2>/dev/null | wc -l')"`,
      ].join('\n');
      const run = spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', '-c', inside], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, run.stderr).toBe(0);
      const lines = run.stdout.trim().split('\n');
      const value = (key: string): string[] => lines.filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));
      expect(value('skep')).toEqual(['/opt/Skep/resources/bin/skep']);
      expect(value('skep-desktop')).toEqual(['/opt/Skep/skep-desktop']);
      expect(value('version')).toEqual([packageJson.version]);
      // No unit, no init script, no cron job: only the two links and update-alternatives' records.
      for (const changed of value('changed')) {
        expect(changed).toMatch(/^(usr\/bin\/skep(-desktop)?|etc\/alternatives\/skep(-desktop)?|var\/lib\/dpkg\/alternatives\/skep(-desktop)?|var\/log\/alternatives\.log|usr\/share\/(mime|applications)\/.+)$/);
      }
      expect(value('changed')).toEqual(expect.arrayContaining(['usr/bin/skep', 'etc/alternatives/skep']));
      expect(value('after-remove')).toEqual(['0']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);

  it('has no update feed when SKEP_UPDATE_URL was not set, so it never looks', async () => {
    const withoutFeed = await packageApp(path.join(scratch, 'without-feed'), undefined);
    expect(existsSync(path.join(withoutFeed, 'resources/agent', AGENT_BUNDLE_NAME))).toBe(true);
    expect(hasUpdateFeed(path.join(withoutFeed, 'resources'))).toBe(false);
  }, 120_000);
});

describe(".deb scripts (postinst, postrm)", () => {
  const templates = path.join(path.dirname(require.resolve('app-builder-lib/package.json')), 'templates/linux');
  const ours = (name: string): string => readFileSync(path.join(projectRoot, 'build/linux', name), 'utf8');
  const commands = (text: string): string[] => text.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));

  it("keep electron-builder's own script, in order, with Skep's part after it", () => {
    for (const name of ['after-install.tpl', 'after-remove.tpl']) {
      const upstream = commands(readFileSync(path.join(templates, name), 'utf8'));
      const mine = commands(ours(name));
      expect(mine.slice(0, upstream.length), `${name} no longer starts with electron-builder's template: copy the new one in`).toEqual(upstream);
      expect(mine.length).toBeGreaterThan(upstream.length);
    }
  });

  it('start and stop no service, and put `skep` where the package ships it', () => {
    for (const name of ['after-install.tpl', 'after-remove.tpl']) {
      expect(commands(ours(name)).join('\n')).not.toMatch(/systemctl|service |invoke-rc\.d|skep daemon|start-stop-daemon|\bkill\b/);
    }
    expect(config.linux?.extraResources).toEqual([{ from: 'build/linux/skep', to: 'bin/skep' }]);
    expect(ours('after-install.tpl')).toContain("update-alternatives --install '/usr/bin/skep' 'skep' '/opt/${sanitizedProductName}/resources/bin/skep'");
    expect(ours('after-remove.tpl')).toContain("update-alternatives --remove 'skep' '/opt/${sanitizedProductName}/resources/bin/skep'");
  });

  it('are valid bash once electron-builder fills in its macros', () => {
    for (const name of ['after-install.tpl', 'after-remove.tpl']) {
      const filled = ours(name).replace(/\$\{([a-zA-Z]+)\}/g, (_match, macro: string) => {
        const values: Record<string, string> = { executable: 'skep-desktop', sanitizedProductName: 'Skep' };
        const value = values[macro];
        if (value === undefined) throw new Error(`${name} uses the macro ${macro}, which electron-builder would refuse`);
        return value;
      });
      const check = spawnSync('bash', ['-n'], { input: filled, encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
    }
  });
});

describe('npm run dist where Electron cannot be downloaded', () => {
  const electronInstalled = installedElectronBinary() !== undefined;
  if (electronInstalled) console.log("skipped: Electron's binary is installed here, so npm run dist would package for real (these tests are for machines without it).");

  it.skipIf(electronInstalled)('stops with one sentence and a non-zero status, and writes nothing', () => {
    const output = path.join(scratch, 'dist');
    const run = spawnSync(process.execPath, [path.join(projectRoot, 'build/scripts/dist.mjs')], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        SKEP_DIST_DIR: output,
        // Only loopback: a closed port stands for "GitHub can't be reached", and an empty cache
        // makes sure no Electron zip downloaded earlier is used.
        ELECTRON_MIRROR: 'http://127.0.0.1:9/',
        electron_config_cache: path.join(scratch, 'electron-cache'),
        SKEP_UPDATE_URL: '',
      },
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Can't package Skep: electron-builder needs Electron's binary, which is not installed here and its download failed: .+ — run "npm run dist" on a machine that can download it/);
    expect(run.stdout).not.toMatch(/built out/);
    expect(existsSync(output)).toBe(false);
    expect(installedElectronBinary()).toBeUndefined();
  }, 90_000);

  it('refuses an update feed that is not http(s) before anything else', () => {
    const run = spawnSync(process.execPath, [path.join(projectRoot, 'build/scripts/dist.mjs')], { encoding: 'utf8', env: { ...process.env, SKEP_UPDATE_URL: 'ftp://nas.lan/skep' } });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(`Can't package Skep: SKEP_UPDATE_URL must be an http or https URL, not "ftp://nas.lan/skep".`);
  }, 60_000);
});

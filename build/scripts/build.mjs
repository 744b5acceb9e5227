// Builds every runnable piece into out/: the renderer (Vite + Svelte), the Electron main process
// (ESM), the preload (one CommonJS file — a sandboxed preload can't load ES modules) and the
// `skep` CLI (one ESM file for Node >= 18, no native modules, so it can be copied to any machine).
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import { writeAgentBundle } from './agent-bundle.mjs';
import { chmod, cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = path.join(root, 'out');
const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
const quiet = process.argv.includes('--quiet');
// Rebuilds just the CLI bundle (the daemon), leaving the rest of out/ as it is: quick, for cluster work.
const cliOnly = process.argv.includes('--cli-only');

// Bundled CommonJS dependencies (dockerode, ssh2) call require(); give the ESM bundle one.
// They also read __dirname/__filename, which ESM lacks.
const requireShim = [
  "import { createRequire as __skepCreateRequire } from 'node:module';",
  "import { fileURLToPath as __skepFileURLToPath } from 'node:url';",
  "const require = __skepCreateRequire(import.meta.url);",
  "const __filename = __skepFileURLToPath(import.meta.url);",
  "const __dirname = __skepFileURLToPath(new URL('.', import.meta.url));",
].join(' ');

/**
 * Modules that export a single function and that dependencies load at start-up for features Skep
 * rarely or never uses: each becomes a stub that loads the real module on its first call. Without
 * this, every daemon (a worker too) would run @grpc/grpc-js + protobufjs (dockerode's BuildKit
 * sessions) and ssh2 with its 16 MiB WebAssembly heap (docker-modem's ssh:// hosts) at start-up.
 */
const LOADED_ON_FIRST_CALL = [/[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]ssh\.js$/, /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]session\.js$/];

/** @type {import('esbuild').Plugin} */
const loadOnFirstCall = {
  name: 'load-on-first-call',
  setup(build) {
    const seen = new Set();
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (args.suffix === '?eager' || !LOADED_ON_FIRST_CALL.some((pattern) => pattern.test(args.path))) return undefined;
      seen.add(LOADED_ON_FIRST_CALL.findIndex((pattern) => pattern.test(args.path)));
      const real = JSON.stringify(`${args.path}?eager`);
      return { contents: `module.exports = function () { return require(${real}).apply(this, arguments); };`, loader: 'js' };
    });
    build.onResolve({ filter: /\?eager$/ }, (args) => ({ path: args.path.slice(0, -'?eager'.length), suffix: '?eager' }));
    build.onEnd((result) => {
      // A dependency that moved its code elsewhere must be looked at again, not silently bundled eagerly.
      const bundlesDockerode = Object.keys(result.metafile?.inputs ?? {}).some((input) => input.includes('node_modules/dockerode/'));
      if (bundlesDockerode && seen.size !== LOADED_ON_FIRST_CALL.length) {
        return { errors: [{ text: `load-on-first-call: expected ${LOADED_ON_FIRST_CALL.join(', ')} in the bundle` }] };
      }
      return undefined;
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  sourcemap: true,
  metafile: true,
  logLevel: quiet ? 'error' : 'warning',
  define: { __SKEP_VERSION__: JSON.stringify(version) },
  // ssh2's optional native helpers: it falls back to pure JS when they are absent.
  external: ['cpu-features', '*.node'],
  plugins: [loadOnFirstCall],
};

/**
 * esbuild writes ASCII except inside regular-expression literals (and legal comments). One "µ"
 * there and V8 holds the whole 3 MB source as UTF-16, twice the memory: escape what is left
 * (\uXXXX means the same character in a regular expression and in a comment).
 */
async function keepAscii(file) {
  const code = await readFile(file, 'utf8');
  if (/^[\x00-\x7f]*$/.test(code)) return;
  await writeFile(file, code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

const started = performance.now();
const cliBuild = () =>
  esbuild({
    ...common,
    entryPoints: [path.join(root, 'electron/cli/skep.ts')],
    outfile: path.join(out, 'cli/skep.mjs'),
    format: 'esm',
    target: 'node18',
    banner: { js: requireShim },
    // V8 keeps a script's whole source for its lifetime, and as UTF-16 once one character is not
    // ASCII (a "—" in a comment): without comments and indentation the daemon's source takes
    // ~2.7 MB instead of ~8 MB. Names stay, so stack traces still read; skep.mjs.map maps lines.
    minifyWhitespace: true,
    minifySyntax: true,
  }).then(() => keepAscii(path.join(out, 'cli/skep.mjs')));
// The app ships the CLI bundle as the agent the SSH wizard installs (build/scripts/agent-bundle.mjs).
const agentBuild = () => writeAgentBundle({ cliBundle: path.join(out, 'cli/skep.mjs'), agentDir: path.join(out, 'agent'), version });
if (cliOnly) {
  await cliBuild();
  await chmod(path.join(out, 'cli/skep.mjs'), 0o755);
  await agentBuild();
  process.exit(0);
}
await rm(out, { recursive: true, force: true });

await viteBuild({
  configFile: path.join(root, 'renderer', 'vite.config.ts'),
  logLevel: quiet ? 'error' : 'warn',
  define: { __SKEP_VERSION__: JSON.stringify(version) },
});

await Promise.all([
  esbuild({
    ...common,
    entryPoints: [path.join(root, 'electron/main/index.ts')],
    outfile: path.join(out, 'main/index.mjs'),
    format: 'esm',
    target: 'node22',
    external: [...common.external, 'electron'],
    banner: { js: requireShim },
  }),
  esbuild({
    ...common,
    entryPoints: [path.join(root, 'electron/preload/index.ts')],
    outfile: path.join(out, 'preload/index.cjs'),
    format: 'cjs',
    target: 'chrome130',
    external: ['electron'],
  }),
  cliBuild(),
]);
await chmod(path.join(out, 'cli/skep.mjs'), 0o755);
await agentBuild();
await cp(path.join(root, 'build/icons'), path.join(out, 'icons'), { recursive: true });

if (!quiet) console.log(`built out/ (renderer, main, preload, cli, agent) in ${Math.round(performance.now() - started)} ms`);

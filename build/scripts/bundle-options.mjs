// esbuild options for the Node bundles (build.mjs), shared with what measures and checks them:
// the memory bench (tests/bench/memory.ts) and the lazy-loading test (tests/unit/node/lazy-loading.test.ts).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Bundled CommonJS dependencies (dockerode, ssh2) call require(); give the ESM bundle one.
// They also read __dirname/__filename, which ESM lacks.
export const requireShim = [
  "import { createRequire as __skepCreateRequire } from 'node:module';",
  "import { fileURLToPath as __skepFileURLToPath } from 'node:url';",
  'const require = __skepCreateRequire(import.meta.url);',
  'const __filename = __skepFileURLToPath(import.meta.url);',
  "const __dirname = __skepFileURLToPath(new URL('.', import.meta.url));",
].join(' ');

/** The suffix of the real module behind a stub of loadOnFirstCall: reached only by a call. */
export const EAGER_SUFFIX = '?eager';

/**
 * Modules that export a single function and that dependencies load at start-up for features Skep
 * never uses: each becomes a stub that loads the real module on its first call. Without this,
 * every daemon (a worker too) would run @grpc/grpc-js and protobufjs (dockerode's BuildKit
 * sessions) and ssh2 with its 16 MiB WebAssembly memory (docker-modem's ssh:// hosts) at start-up.
 */
export const LOADED_ON_FIRST_CALL = [/[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]ssh\.js$/, /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]session\.js$/];

/** @type {import('esbuild').Plugin} */
export const loadOnFirstCall = {
  name: 'load-on-first-call',
  setup(build) {
    const stubbed = new Set();
    build.onLoad({ filter: /\.js$/ }, (args) => {
      const index = LOADED_ON_FIRST_CALL.findIndex((pattern) => pattern.test(args.path));
      if (args.suffix === EAGER_SUFFIX || index < 0) return undefined;
      stubbed.add(index);
      const real = JSON.stringify(`${args.path}${EAGER_SUFFIX}`);
      return { contents: `module.exports = function () { return require(${real}).apply(this, arguments); };`, loader: 'js' };
    });
    build.onResolve({ filter: /\?eager$/ }, (args) => ({ path: args.path.slice(0, -EAGER_SUFFIX.length), suffix: EAGER_SUFFIX }));
    build.onEnd((result) => {
      // A dependency that moved this code elsewhere must be looked at again, not bundled eagerly unnoticed.
      const bundlesDockerode = Object.keys(result.metafile?.inputs ?? {}).some((input) => input.includes('node_modules/dockerode/'));
      if (bundlesDockerode && stubbed.size !== LOADED_ON_FIRST_CALL.length) {
        return { errors: [{ text: `load-on-first-call: expected ${LOADED_ON_FIRST_CALL.join(', ')} in the bundle` }] };
      }
      return undefined;
    });
  },
};

/** @param {{ version: string, quiet?: boolean }} options */
export function nodeBundleOptions({ version, quiet = false }) {
  return {
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
}

/**
 * The `skep` CLI, which is also the daemon and the agent the wizard copies to a machine: one ESM
 * file for Node >= 18. Manager-only parts are reached through import() (electron/node/daemon.ts),
 * which esbuild turns into code that runs on first import, so the file stays one file.
 * @param {{ root: string, outfile: string, version: string, quiet?: boolean }} options
 */
export function cliBundleOptions({ root, outfile, version, quiet = false }) {
  return {
    ...nodeBundleOptions({ version, quiet }),
    entryPoints: [path.join(root, 'electron/cli/skep.ts')],
    outfile,
    format: 'esm',
    target: 'node18',
    banner: { js: requireShim },
    // V8 keeps a script's whole source for its lifetime, and as UTF-16 once one character is not
    // ASCII (a "—" in a comment): without comments and indentation the source takes ~3 MB instead
    // of ~8 MB. Names stay, so stack traces still read; skep.mjs.map maps their positions.
    minifyWhitespace: true,
    minifySyntax: true,
  };
}

/**
 * esbuild writes ASCII except inside regular-expression literals (and legal comments). One "µ"
 * there and V8 holds the whole source as UTF-16, twice the memory: escape what is left (\uXXXX
 * means the same character in a regular expression and in a comment).
 * @param {string} file
 */
export async function keepAscii(file) {
  const code = await readFile(file, 'utf8');
  const notAscii = /[\u0080-\uffff]/g;
  if (!notAscii.test(code)) return;
  await writeFile(file, code.replace(notAscii, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

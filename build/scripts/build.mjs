// Builds every runnable piece into out/: the renderer (Vite + Svelte), the Electron main process
// (ESM), the preload (one CommonJS file — a sandboxed preload can't load ES modules) and the
// `skep` CLI (one ESM file for Node >= 18, no native modules, so it can be copied to any machine).
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import { writeAgentBundle } from './agent-bundle.mjs';
import { cliBundleOptions, keepAscii, nodeBundleOptions, requireShim } from './bundle-options.mjs';
import { chmod, cp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = path.join(root, 'out');
const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
const quiet = process.argv.includes('--quiet');
// Rebuilds just the CLI bundle (the daemon), leaving the rest of out/ as it is: quick, for cluster work.
const cliOnly = process.argv.includes('--cli-only');

const started = performance.now();
const common = nodeBundleOptions({ version, quiet });
const cliBuild = () => esbuild(cliBundleOptions({ root, outfile: path.join(out, 'cli/skep.mjs'), version, quiet })).then(() => keepAscii(path.join(out, 'cli/skep.mjs')));
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

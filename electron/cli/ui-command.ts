// `skep ui`: browser mode on purpose — the renderer and API on 127.0.0.1 behind a token.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defaultDataDir, ensureDataDir } from '../agent/data-dir.js';
import { startBrowserServer, type BrowserServer } from '../server/browser-server.js';
import { SkepDaemon } from '../swarm/daemon.js';

export interface UiOptions {
  readonly host: string;
  readonly port: number;
  readonly dataDir?: string;
  /** Printed before the URL, e.g. why no window opened. */
  readonly reason?: string;
}

/** The built renderer sits beside the CLI bundle: out/cli/skep.mjs → out/renderer. */
export function bundledRendererDir(): string {
  const fromEnv = process.env['SKEP_RENDERER_DIR'];
  if (fromEnv) return path.resolve(fromEnv);
  return fileURLToPath(new URL('../renderer/', import.meta.url)).replace(/[\\/]$/, '');
}

export async function runUi(options: UiOptions): Promise<BrowserServer> {
  const rendererDir = bundledRendererDir();
  if (!existsSync(path.join(rendererDir, 'index.html'))) {
    throw new Error(`The built UI is missing at ${rendererDir}. Run "npm run build" first.`);
  }
  const dataDir = await ensureDataDir(options.dataDir ?? defaultDataDir());
  // Browser mode embeds the node, as the desktop app does.
  const service = new SkepDaemon({ dataDir });
  await service.start();
  const server = await startBrowserServer({ service, rendererDir, host: options.host, port: options.port });
  if (options.reason) process.stdout.write(`${options.reason}\n`);
  process.stdout.write(`Skep is running in browser mode. Open this URL (it carries your access token):\n\n  ${server.url}\n\nPress Ctrl+C to stop.\n`);
  const stop = (): void => {
    void Promise.all([server.close(), service.stop()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}

// `skep ui`: browser mode on purpose — the renderer and API on 127.0.0.1 behind a token.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { SkepService } from '../../shared/api.js';
import { defaultControlAddress, defaultDataDir, ensureDataDir } from '../agent/data-dir.js';
import { connectControl } from './control-client.js';
import { startBrowserServer, type BrowserServer } from '../server/browser-server.js';
import { SkepDaemon } from '../node/daemon.js';

export interface UiOptions {
  readonly host: string;
  readonly port: number;
  readonly dataDir?: string;
  /** A daemon's control socket to show instead of embedding a node. */
  readonly daemon?: string;
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
  const { service, describe, stopService, watchService } = await chooseService(options);
  const server = await startBrowserServer({ service, rendererDir, host: options.host, port: options.port, ...(watchService ? { watchService } : {}) });
  if (options.reason) process.stdout.write(`${options.reason}\n`);
  process.stdout.write(`${describe}\n`);
  process.stdout.write(`Skep is running in browser mode. Open this URL (it carries your access token):\n\n  ${server.url}\n\nPress Ctrl+C to stop.\n`);
  const stop = (): void => {
    void Promise.all([server.close(), stopService()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}

interface ChosenService {
  readonly service: SkepService;
  readonly describe: string;
  stopService(): Promise<void>;
  /** Tells the server when the daemon behind it goes away (see BrowserServerOptions.watchService). */
  watchService?(lost: () => void): void;
}

/**
 * A headless box usually runs `skep daemon` already: then the window shows that node. Otherwise the
 * node is embedded here, as the desktop app embeds it. Two nodes must never share a data folder.
 */
async function chooseService(options: UiOptions): Promise<ChosenService> {
  const explicitDataDir = options.dataDir ?? process.env['SKEP_DATA_DIR'];
  const address = options.daemon ?? (explicitDataDir ? undefined : defaultControlAddress());
  if (address) {
    const client = connectControl(address);
    try {
      await client.getSwarmStatus();
      const service: SkepService = Object.assign(Object.create(client) as SkepService, { subscribe: client.onEvent.bind(client) });
      return {
        service,
        describe: `Showing the Skep daemon at ${address}.`,
        stopService: async () => client.close(),
        watchService: (lost) => void client.onDisconnect(lost),
      };
    } catch (error) {
      client.close();
      if (options.daemon) throw error;
    }
  }
  const dataDir = await ensureDataDir(options.dataDir ?? defaultDataDir());
  const daemon = new SkepDaemon({ dataDir });
  await daemon.start();
  return { service: daemon, describe: `Running a Skep node in this process (data in ${dataDir}).`, stopService: () => daemon.stop() };
}

// Where a node keeps its state when nobody says otherwise (the desktop app passes Electron's
// userData folder instead). Follows each platform's convention, as dockerd does for root.
import os from 'node:os';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env['SKEP_DATA_DIR']) return path.resolve(env['SKEP_DATA_DIR']);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env['LOCALAPPDATA'] ?? path.join(home, 'AppData', 'Local'), 'Skep');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Skep');
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/var/lib/skep';
  return path.join(env['XDG_DATA_HOME'] ?? path.join(home, '.local', 'share'), 'skep');
}

/** Creates the directory readable by its owner only: it will hold keys and the Raft log. */
export async function ensureDataDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Where the daemon's control socket lives by default: /run/skep for root, the user's runtime dir otherwise. */
export function defaultControlAddress(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env['SKEP_HOST']) return env['SKEP_HOST'];
  if (platform === 'win32') return 'npipe:////./pipe/skep_engine';
  if (typeof process.getuid === 'function' && process.getuid() === 0) return 'unix:///run/skep/skep.sock';
  const runtimeDir = env['XDG_RUNTIME_DIR'] ?? path.join(os.tmpdir(), `skep-${process.getuid?.() ?? 'user'}`);
  return `unix://${path.join(runtimeDir, 'skep', 'skep.sock')}`;
}

// A real Docker Engine for a test, with its own roots, socket and pid file, and no bridge or
// iptables rules (these tests run no networked containers, and must leave the host as they found it).
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startProcess, type Started } from './processes.js';

export function dockerdUnavailableReason(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'dockerd needs root (CI runs as root)';
  try {
    execFileSync('dockerd', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'dockerd is not installed (Debian: apt-get install -y docker.io; .ci/run does this)';
  }
}

export interface TestEngine {
  readonly host: string;
  readonly process: Started;
  stop(): Promise<void>;
}

/** `extraArgs`: more dockerd flags (e.g. --live-restore). Starting again on the same `workDir` restarts the same engine. */
export async function startDockerd(workDir: string, extraArgs: readonly string[] = []): Promise<TestEngine> {
  const root = path.join(workDir, 'dockerd');
  await mkdir(root, { recursive: true });
  const socket = path.join(root, 'docker.sock');
  const started = startProcess('dockerd', [
    '--data-root', path.join(root, 'data'),
    '--exec-root', path.join(root, 'exec'),
    '--pidfile', path.join(root, 'docker.pid'),
    '--host', `unix://${socket}`,
    '--bridge', 'none',
    '--iptables=false',
    '--ip6tables=false',
    ...extraArgs,
  ]);
  const deadline = Date.now() + 60_000;
  while (!existsSync(socket)) {
    if (started.child.exitCode !== null) throw new Error(`dockerd exited early:\n${started.output()}`);
    if (Date.now() > deadline) {
      await started.stop();
      throw new Error(`dockerd did not create its socket in time:\n${started.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { host: `unix://${socket}`, process: started, stop: () => started.stop('SIGTERM') };
}

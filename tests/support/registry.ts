// A real registry (Debian's docker-registry, the CNCF distribution server) on loopback, so pulls
// can be tested without leaving the machine. Its storage lives in the test's folder.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { startProcess, type Started } from './processes.js';

export function registryUnavailableReason(): string | undefined {
  try {
    execFileSync('docker-registry', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'docker-registry is not installed (Debian: apt-get install -y docker-registry; .ci/run does this)';
  }
}

export interface TestRegistry {
  /** host:port, on 127.0.0.1 (an insecure registry Docker Engine accepts without TLS). */
  readonly address: string;
  readonly process: Started;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startRegistry(workDir: string): Promise<TestRegistry> {
  const root = path.join(workDir, 'registry');
  await mkdir(path.join(root, 'data'), { recursive: true });
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const config = path.join(root, 'config.yml');
  await writeFile(config, [
    'version: 0.1',
    'log: {level: warn}',
    `storage: {filesystem: {rootdirectory: ${path.join(root, 'data')}}, delete: {enabled: true}}`,
    `http: {addr: "${address}"}`,
    '',
  ].join('\n'));
  const started = startProcess('docker-registry', ['serve', config]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (started.child.exitCode !== null) throw new Error(`docker-registry exited early:\n${started.output()}`);
    try {
      const reply = await fetch(`http://${address}/v2/`);
      if (reply.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await started.stop();
      throw new Error(`docker-registry did not answer in time:\n${started.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { address, process: started, stop: () => started.stop('SIGTERM') };
}

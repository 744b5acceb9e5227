// The control client after its daemon goes away (issue 11, item 4): calls fail at once with
// DAEMON_UNREACHABLE instead of hanging, it says the connection was lost, and it dials again on the
// next call, so `skep ui -H` follows a daemon that restarts. A real daemon behind a real socket.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectControl } from '../../../electron/cli/control-client.js';
import { SkepDaemon } from '../../../electron/node/daemon.js';
import { startControlServer } from '../../../electron/server/control-socket.js';
import { SkepError } from '../../../shared/errors.js';

let workDir: string;
let service: SkepDaemon;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'skep-ctl-reconnect-'));
  service = new SkepDaemon({ dataDir: path.join(workDir, 'data'), engine: { host: `unix://${path.join(workDir, 'no-docker.sock')}` } });
  await service.start();
});

afterAll(async () => {
  await service.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe('control client', () => {
  it('fails fast while the daemon is gone, says so, and reconnects when it is back', async () => {
    const address = `unix://${path.join(workDir, 'control.sock')}`;
    let server = await startControlServer(address, service);
    const client = connectControl(address);
    try {
      expect((await client.getSwarmStatus()).state).toBe('inactive');
      const lost = new Promise<void>((resolve) => client.onDisconnect(resolve));
      await server.close();
      await lost;
      const failure = await client.getSwarmStatus().then(() => undefined, (error: unknown) => error);
      expect(failure).toBeInstanceOf(SkepError);
      expect((failure as SkepError).code).toBe('DAEMON_UNREACHABLE');

      server = await startControlServer(address, service);
      expect((await client.getSwarmStatus()).state).toBe('inactive');
    } finally {
      client.close();
      await server.close();
    }
  });
});

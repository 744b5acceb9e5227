// A daemon that dies in the middle of a request: the CLI must not say "Cannot connect" (which promises
// nothing happened) but that the outcome is unknown. The "daemon" is a real process listening on a real
// unix socket that kills itself with SIGKILL once it has read a request.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkepError, skepError } from '../../../shared/errors.js';
import { connectControl } from '../../../electron/cli/control-client.js';
import { describeError } from '../../../electron/cli/output.js';

const DIES_AFTER_READING = `
const net = require('node:net');
const server = net.createServer((socket) => {
  socket.on('data', (chunk) => {
    if (chunk.includes(0x0a)) process.kill(process.pid, 'SIGKILL');
  });
});
server.listen(process.argv[1], () => process.stdout.write('listening\\n'));
`;

async function refusal(promise: Promise<unknown>): Promise<SkepError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SkepError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

describe('a daemon that dies mid-request', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'skep-outcome-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('says the outcome is unknown, not that the daemon cannot be reached', async () => {
    const socketPath = path.join(dir, 'dying.sock');
    const child = spawn(process.execPath, ['-e', DIES_AFTER_READING, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', () => reject(new Error('the dying daemon did not start')));
    });
    const address = `unix://${socketPath}`;
    const client = connectControl(address);
    try {
      const error = await refusal(client.nodeUpdate('n1', { labelAdd: { k: 'v' } }));
      expect(await exited).toBe('SIGKILL');
      expect(error.code).toBe('OUTCOME_UNKNOWN');
      const printed = describeError(error);
      expect(printed).toBe(skepError('OUTCOME_UNKNOWN', address).message);
      expect(printed).toMatch(/^error during connect: /);
      expect(printed).toContain('outcome of the request is unknown');
      expect(printed).not.toContain('Cannot connect');
    } finally {
      client.close();
    }
  });

  it('still says "Cannot connect" when nothing was sent (the daemon was already gone)', async () => {
    const address = `unix://${path.join(dir, 'gone.sock')}`;
    const client = connectControl(address);
    try {
      const error = await refusal(client.getSwarmStatus());
      expect(error.code).toBe('DAEMON_UNREACHABLE');
      expect(describeError(error)).toMatch(/^Cannot connect to the Skep daemon/);
    } finally {
      client.close();
    }
  });
});

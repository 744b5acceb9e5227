// The control socket's one streaming call (`service logs --follow`): its parts arrive as they are
// made, other calls keep working beside it, bad parameters are refused, and the daemon's side is
// aborted when the client's connection goes. Real unix socket, real CLI client.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SkepService, SkepStreams } from '../../../shared/api.js';
import type { ServiceLogLine } from '../../../shared/services.js';
import { connectControl } from '../../../electron/cli/control-client.js';
import { startControlServer, type ControlServer } from '../../../electron/server/control-socket.js';
import { serviceWith } from '../../support/service-double.js';

const workDir = mkdtempSync(path.join(os.tmpdir(), 'skep-ctl-stream-'));
const servers: ControlServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
  rmSync(workDir, { recursive: true, force: true });
});

const line = (text: string): ServiceLogLine => ({ taskId: 't'.repeat(25), serviceName: 'web', slot: 1, nodeId: 'n'.repeat(25), hostname: 'pi-1', stream: 'stdout', text });

function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(check, 5);
    };
    check();
  });
}

async function serve(name: string, follow: SkepStreams['followServiceLogs']): Promise<string> {
  const socket = path.join(workDir, `${name}.sock`);
  const service = serviceWith({ followServiceLogs: follow, serviceList: () => Promise.resolve([]) } as Partial<SkepService>);
  servers.push(await startControlServer(`unix://${socket}`, service));
  return `unix://${socket}`;
}

describe('a streaming call on the control socket', () => {
  it('delivers parts as they are made, beside ordinary calls, and ends with the reply', async () => {
    let emit: ((lines: ServiceLogLine[]) => void) | undefined;
    let end: (() => void) | undefined;
    const address = await serve('parts', (ref, options, onLines) => {
      expect([ref, options]).toEqual(['web', { tail: 5 }]);
      emit = onLines;
      return new Promise<void>((resolve) => (end = resolve));
    });
    const client = connectControl(address);
    const received: string[] = [];
    let finished = false;
    const call = client.followServiceLogs('web', { tail: 5 }, (lines) => received.push(...lines.map((l) => l.text))).then(() => (finished = true));
    await until(() => emit !== undefined);
    emit!([line('one'), line('two')]);
    await until(() => received.length === 2);
    expect(await client.serviceList()).toEqual([]);
    emit!([line('three')]);
    await until(() => received.length === 3);
    expect(finished).toBe(false);
    end!();
    await call;
    expect(received).toEqual(['one', 'two', 'three']);
    client.close();
  });

  it('is aborted on the daemon\'s side when the client goes', async () => {
    let signal: AbortSignal | undefined;
    const address = await serve('gone', (_ref, _options, onLines, aborted) => {
      signal = aborted;
      onLines([line('hello')]);
      return new Promise<void>((resolve) => aborted.addEventListener('abort', () => resolve()));
    });
    const client = connectControl(address);
    const received: ServiceLogLine[] = [];
    void client.followServiceLogs('web', {}, (lines) => received.push(...lines)).catch(() => undefined);
    await until(() => received.length === 1);
    expect(signal?.aborted).toBe(false);
    client.close();
    await until(() => signal?.aborted === true);
  });

  it('refuses malformed parameters before the daemon sees them', async () => {
    let called = false;
    const address = await serve('bad', () => {
      called = true;
      return Promise.resolve();
    });
    const client = connectControl(address);
    await expect(client.followServiceLogs('web', { tail: -1 }, () => undefined)).rejects.toThrow(/^invalid request: 1\.tail/);
    expect(called).toBe(false);
    client.close();
  });
});

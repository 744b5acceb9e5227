import { describe, expect, it } from 'vitest';
import { METHOD_NAMES, type Reply, type SkepApi, type SkepEvent } from '../../../shared/api.js';
import { METHOD_PARAMS } from '../../../shared/api-schemas.js';
import { createClient } from '../../../shared/client.js';
import { dispatchCall } from '../../../shared/dispatch.js';
import { ERROR_CATALOG, SkepError, skepError, toErrorEnvelope } from '../../../shared/errors.js';
import type { SwarmStatus, SystemInfo } from '../../../shared/types.js';
import { serviceWith } from '../../support/service-double.js';
import { systemInfo } from '../../support/system-info.js';

const info: SystemInfo = systemInfo();

class RecordingApi {
  calls: string[] = [];
  failWith: unknown;
  async getSystemInfo(): Promise<SystemInfo> {
    this.calls.push('getSystemInfo');
    if (this.failWith !== undefined) throw this.failWith;
    return info;
  }
  async getSwarmStatus(): Promise<SwarmStatus> {
    this.calls.push('getSwarmStatus');
    return { state: 'inactive' };
  }
}

function asApi(recording: RecordingApi): SkepApi {
  return serviceWith({ getSystemInfo: () => recording.getSystemInfo(), getSwarmStatus: () => recording.getSwarmStatus() });
}

describe('the API contract', () => {
  it('lists every method once and has a schema for each', () => {
    expect(new Set(METHOD_NAMES).size).toBe(METHOD_NAMES.length);
    expect(Object.keys(METHOD_PARAMS).sort()).toEqual([...METHOD_NAMES].sort());
  });

  it('dispatches a valid call to the implementation', async () => {
    const api = new RecordingApi();
    const reply = await dispatchCall(asApi(api), 'getSystemInfo', []);
    expect(reply).toEqual({ ok: true, result: info });
    expect(api.calls).toEqual(['getSystemInfo']);
  });

  it('refuses an unknown method without calling anything', async () => {
    const api = new RecordingApi();
    const reply = await dispatchCall(asApi(api), 'dropAllTables', []);
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error).toEqual({ code: 'UNKNOWN_METHOD', message: 'unknown method "dropAllTables"' });
    expect(api.calls).toEqual([]);
  });

  it('refuses methods inherited from Object.prototype', async () => {
    const reply = await dispatchCall(asApi(new RecordingApi()), 'constructor', []);
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error.code).toBe('UNKNOWN_METHOD');
  });

  it('refuses parameters that do not match the schema', async () => {
    const api = new RecordingApi();
    for (const params of [['extra'], 'not-an-array', null, { 0: 1 }]) {
      const reply = await dispatchCall(asApi(api), 'getSwarmStatus', params);
      expect(reply.ok).toBe(false);
      if (!reply.ok) expect(reply.error.code).toBe('INVALID_REQUEST');
    }
    expect(api.calls).toEqual([]);
  });

  it('carries a SkepError across as its envelope, and anything else as INTERNAL', async () => {
    const api = new RecordingApi();
    api.failWith = skepError('SWARM_EXISTS');
    const refused = await dispatchCall(asApi(api), 'getSystemInfo', []);
    expect(refused).toEqual({ ok: false, error: { code: 'SWARM_EXISTS', message: ERROR_CATALOG.SWARM_EXISTS.text() } });

    api.failWith = new TypeError('boom');
    const crashed = await dispatchCall(asApi(api), 'getSystemInfo', []);
    expect(crashed).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'internal error: boom' } });
  });

  it('builds a client whose methods resolve results and reject with rebuilt SkepErrors', async () => {
    const api = new RecordingApi();
    const listeners: ((event: SkepEvent) => void)[] = [];
    const client = createClient({
      call: (method, params): Promise<Reply> => dispatchCall(asApi(api), method, params),
      onEvent: (listener) => {
        listeners.push(listener);
        return () => undefined;
      },
    });
    await expect(client.getSystemInfo()).resolves.toEqual(info);
    api.failWith = skepError('NOT_IN_SWARM');
    const error = await client.getSystemInfo().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SkepError);
    expect((error as SkepError).code).toBe('NOT_IN_SWARM');
    expect((error as SkepError).message).toBe('This node is not part of a swarm');

    const heard: SkepEvent[] = [];
    client.onEvent((event) => heard.push(event));
    listeners[0]?.({ type: 'swarm.status', payload: { state: 'inactive' } });
    expect(heard).toEqual([{ type: 'swarm.status', payload: { state: 'inactive' } }]);
  });
});

describe('the error catalog', () => {
  it("keeps Docker's texts, with skep for docker", () => {
    expect(skepError('SWARM_EXISTS').message).toBe(
      'This node is already part of a swarm. Use "skep swarm leave" to leave this swarm and join another one.',
    );
    expect(skepError('LEAVE_LOSES_QUORUM', 1, 3).message).toBe(
      'You are attempting to leave the swarm on a node that is participating as a manager. Removing this node leaves 1 managers out of 3. Without a Raft quorum your swarm will be inaccessible. The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message.',
    );
    for (const code of Object.keys(ERROR_CATALOG)) expect(code).toMatch(/^[A-Z_]+$/);
  });

  it('never turns a non-Error into something with a stack', () => {
    expect(toErrorEnvelope('plain string')).toEqual({ code: 'INTERNAL', message: 'internal error: plain string' });
  });
});

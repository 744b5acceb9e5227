import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SkepDaemon } from '../../../electron/node/daemon.js';
import { MAX_API_SOCKETS, startBrowserServer, type BrowserServer } from '../../../electron/server/browser-server.js';
import type { ReplyFrame } from '../../../shared/wire.js';

let workDir: string;
let server: BrowserServer;
let service: SkepDaemon;
let base: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'skep-server-'));
  const rendererDir = path.join(workDir, 'renderer');
  await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>Skep</title>');
  await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log("skep")');
  await writeFile(path.join(workDir, 'secret.txt'), 'outside the renderer');
  // A socket path that doesn't exist: the engine probe answers "no engine" quickly and for real.
  service = new SkepDaemon({ dataDir: path.join(workDir, 'data'), engine: { host: `unix://${path.join(workDir, 'no-docker.sock')}` } });
  await service.start();
  server = await startBrowserServer({ service, rendererDir });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.close();
  await service.stop();
  await rm(workDir, { recursive: true, force: true });
});

function openSocket(headers: Record<string, string> = {}, query = ''): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    ws.once('error', reject);
  });
}

function nextReply(ws: WebSocket): Promise<ReplyFrame> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const frame = JSON.parse(data.toString()) as ReplyFrame | { event: unknown };
      if ('event' in frame) return;
      ws.off('message', onMessage);
      resolve(frame);
    };
    ws.on('message', onMessage);
  });
}

async function call(ws: WebSocket, payload: string): Promise<ReplyFrame> {
  const reply = nextReply(ws);
  ws.send(payload);
  return reply;
}

describe('browser mode: access', () => {
  it('listens on loopback and prints a URL that carries the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(40);
  });

  it('refuses the page, assets and unknown paths without a token (401)', async () => {
    for (const target of ['/', '/index.html', '/assets/app.js', '/nothing-here']) {
      const response = await fetch(base + target);
      expect(response.status, target).toBe(401);
    }
  });

  it('refuses a wrong token, including one of the right length (401)', async () => {
    const sameLength = 'x'.repeat(server.token.length);
    for (const token of ['wrong', sameLength, '']) {
      const response = await fetch(`${base}/?token=${token}`);
      expect(response.status).toBe(401);
      expect(await response.text()).not.toContain(server.token);
    }
  });

  it('serves the page with the token, sets a cookie, then serves assets by cookie', async () => {
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const asset = await fetch(`${base}/assets/app.js`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
  });

  it('does not serve files outside the renderer folder', async () => {
    for (const target of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const response = await fetch(`${base}${target}${target.includes('?') ? '&' : '?'}token=${server.token}`);
      expect(await response.text(), target).not.toContain('outside the renderer');
    }
  });

  it('refuses the WebSocket without a token, with a wrong one, and from another origin', async () => {
    await expect(openSocket()).rejects.toThrow('HTTP 401');
    await expect(openSocket({}, '?token=nope')).rejects.toThrow('HTTP 401');
    await expect(openSocket({ origin: 'http://evil.example' }, `?token=${server.token}`)).rejects.toThrow('HTTP 403');
  });
});

/** A GET with any Host header (fetch won't send one of our choosing). */
function getWithHost(target: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: server.port, path: target, headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).once('error', reject);
  });
}

describe('browser mode: one instance, one cookie, one host', () => {
  it("names its cookie after its port, so other servers on 127.0.0.1 and other Skep instances don't share it", async () => {
    const page = await fetch(server.url);
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie.startsWith(`skep_token_${server.port}=${server.token};`)).toBe(true);
    // The old shared name, and another instance's name, prove nothing here.
    for (const name of ['skep_token', `skep_token_${server.port + 1}`]) {
      const asset = await fetch(`${base}/assets/app.js`, { headers: { cookie: `${name}=${server.token}` } });
      expect(asset.status, name).toBe(401);
    }
    await expect(openSocket({ cookie: `skep_token=${server.token}` })).rejects.toThrow('HTTP 401');
  });

  it('answers only requests addressed to 127.0.0.1:PORT or localhost:PORT (421 otherwise, token or not)', async () => {
    const target = `/?token=${server.token}`;
    expect(await getWithHost(target, `127.0.0.1:${server.port}`)).toBe(200);
    expect(await getWithHost(target, `localhost:${server.port}`)).toBe(200);
    for (const host of [`evil.example:${server.port}`, 'localhost', `127.0.0.1:${server.port + 1}`, `rebind.127.0.0.1.nip.io:${server.port}`]) {
      expect(await getWithHost(target, host), host).toBe(421);
    }
    await expect(openSocket({ host: `evil.example:${server.port}` }, `?token=${server.token}`)).rejects.toThrow('HTTP 421');
  });

  it("closes every page's socket when the node behind it goes away, so pages say so and reconnect", async () => {
    let lost: (() => void) | undefined;
    const watched = await startBrowserServer({ service, rendererDir: path.join(workDir, 'renderer'), watchService: (notify) => (lost = notify) });
    try {
      const ws = await new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${watched.port}/api?token=${watched.token}`);
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      lost?.();
      expect(await closed).toBe(1011);
    } finally {
      await watched.close();
    }
  });
});

describe('browser mode: the API over WebSocket', () => {
  it('answers a call with real facts', async () => {
    const ws = await openSocket({ cookie: `skep_token_${server.port}=${server.token}` });
    const reply = await call(ws, JSON.stringify({ id: 1, method: 'getSystemInfo', params: [] }));
    expect(reply.id).toBe(1);
    expect(reply.ok).toBe(true);
    if (reply.ok) {
      const info = reply.result as { hostname: string; cpuCount: number; engine: { available: boolean; reason?: string } };
      expect(info.hostname).toBe(os.hostname());
      expect(info.cpuCount).toBe(os.cpus().length);
      expect(info.engine.available).toBe(false);
      expect(info.engine.reason).toContain('no Docker Engine found');
    }
    ws.close();
  });

  it('answers malformed JSON, bad frames and unknown methods with errors and keeps the connection', async () => {
    const ws = await openSocket({}, `?token=${server.token}`);
    const malformed = await call(ws, '{"id": 2, "method": ');
    expect(malformed).toMatchObject({ id: null, ok: false, error: { code: 'INVALID_REQUEST', message: 'invalid request: malformed JSON' } });

    const badFrame = await call(ws, JSON.stringify({ method: 'getSystemInfo' }));
    expect(badFrame).toMatchObject({ id: null, ok: false, error: { code: 'INVALID_REQUEST' } });

    const unknown = await call(ws, JSON.stringify({ id: 3, method: 'eraseEverything', params: [] }));
    expect(unknown).toMatchObject({ id: 3, ok: false, error: { code: 'UNKNOWN_METHOD' } });

    const badParams = await call(ws, JSON.stringify({ id: 4, method: 'getSwarmStatus', params: [1, 2] }));
    expect(badParams).toMatchObject({ id: 4, ok: false, error: { code: 'INVALID_REQUEST' } });

    const binary = await new Promise<ReplyFrame>((resolve) => {
      ws.once('message', (data) => resolve(JSON.parse(data.toString()) as ReplyFrame));
      ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    });
    expect(binary).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });

    const stillWorks = await call(ws, JSON.stringify({ id: 5, method: 'getSwarmStatus', params: [] }));
    expect(stillWorks).toEqual({ id: 5, ok: true, result: { state: 'inactive' } });
    ws.close();
  });

  it('closes only the connection that sends an oversized frame; the server keeps serving', async () => {
    const greedy = await openSocket({}, `?token=${server.token}`);
    const closed = new Promise<number>((resolve) => greedy.once('close', (code) => resolve(code)));
    greedy.send('x'.repeat(2 * 1024 * 1024));
    expect(await closed).toBe(1009);

    const polite = await openSocket({}, `?token=${server.token}`);
    const reply = await call(polite, JSON.stringify({ id: 6, method: 'getSwarmStatus', params: [] }));
    expect(reply.ok).toBe(true);
    polite.close();
  });

  it(`holds at most ${MAX_API_SOCKETS} API sockets; the next is refused (503) until one closes`, async () => {
    const open = await Promise.all(Array.from({ length: MAX_API_SOCKETS }, () => openSocket({}, `?token=${server.token}`)));
    await expect(openSocket({}, `?token=${server.token}`)).rejects.toThrow('HTTP 503');
    const first = open.shift() as WebSocket;
    await new Promise((resolve) => {
      first.once('close', resolve);
      first.close();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await openSocket({}, `?token=${server.token}`);
    expect((await call(next, JSON.stringify({ id: 7, method: 'getSwarmStatus', params: [] }))).ok).toBe(true);
    for (const ws of [...open, next]) ws.close();
  });
});

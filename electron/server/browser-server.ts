// Browser mode: the renderer and the API on 127.0.0.1, for machines without Electron's window.
// Nothing is served without the access token — not the page, not an asset, not the WebSocket.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SkepService } from '../../shared/api.js';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.js';
import { dispatchCall } from '../../shared/dispatch.js';
import { skepError } from '../../shared/errors.js';
import { requestFrame } from '../../shared/api-schemas.js';
import type { ServerFrame } from '../../shared/wire.js';
import { allowedHosts, authorize, newAccessToken, tokenCookieName } from './access-token.js';
import { openStaticFile, resolveStaticFile } from './static-files.js';

export const API_PATH = '/api';
const MAX_FRAME_BYTES = 1024 * 1024;
/** A window or two per user; past this a script is opening sockets in a loop. */
export const MAX_API_SOCKETS = 32;
/** HTTP connections, with or without the token (the page, its assets, the upgrade). */
const MAX_HTTP_CONNECTIONS = 256;
/** Unsent replies and events above which a socket is dropped: its page has stopped reading. */
const MAX_UNSENT_BYTES = 16 * 1024 * 1024;
/** Calls of one socket being answered at once; more are refused (a page sends one per click). */
const MAX_CALLS_IN_FLIGHT = 64;

/** Same policy as the Electron window (shared/csp.ts). */
export { CONTENT_SECURITY_POLICY };

export interface BrowserServerOptions {
  readonly service: SkepService;
  readonly rendererDir: string;
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly token?: string;
  /**
   * Called once with a function to call whenever the service behind this server goes away (the
   * daemon that `skep ui` shows died). Every page's socket is then closed, so each page learns at
   * once that it lost its node, says so, and reconnects; calls until the daemon is back fail fast.
   */
  readonly watchService?: (lost: () => void) => void;
}

export interface BrowserServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

function refuse(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(text + '\n');
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? newAccessToken();
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  // Both depend on the port, known once the server listens (port 0 picks one).
  let cookieName = '';
  let hosts: ReadonlySet<string> = new Set();
  const expectedHost = (request: IncomingMessage): boolean => hosts.has((request.headers.host ?? '').toLowerCase());

  async function serveHttp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!expectedHost(request)) return refuse(response, 421, 'Misdirected request: open Skep at the 127.0.0.1 address it printed.');
    const credential = authorize(request, token, cookieName);
    if (!credential) return refuse(response, 401, 'Unauthorized: open the URL that Skep printed, with its token.');
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(response, 405, 'Method not allowed');
    const url = new URL(request.url ?? '/', 'http://localhost');
    const file = await resolveStaticFile(options.rendererDir, url.pathname);
    if (!file) return refuse(response, 404, 'Not found');
    const headers: http.OutgoingHttpHeaders = {
      'content-type': file.contentType,
      'content-length': file.size,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    // The token arrives once in the URL; assets and the WebSocket then prove access by cookie.
    if (credential === 'query') headers['set-cookie'] = `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    response.writeHead(200, headers);
    if (request.method === 'HEAD') return void response.end();
    openStaticFile(file).pipe(response);
  }

  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (request, response) => {
    serveHttp(request, response).catch(() => refuse(response, 500, 'Internal error'));
  });
  server.maxConnections = MAX_HTTP_CONNECTIONS;

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!expectedHost(request)) return refuseUpgrade(socket, 421, 'Misdirected Request');
    if (!authorize(request, token, cookieName)) return refuseUpgrade(socket, 401, 'Unauthorized');
    if (url.pathname !== API_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    // A page on another origin can't ride the cookie into our socket.
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host ?? ''}`) return refuseUpgrade(socket, 403, 'Forbidden');
    if (sockets.clients.size >= MAX_API_SOCKETS) return refuseUpgrade(socket, 503, 'Service Unavailable');
    sockets.handleUpgrade(request, socket, head, (ws) => serveSocket(ws, options.service));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  options.watchService?.(() => {
    for (const client of sockets.clients) client.close(1011, 'the Skep node went away');
  });
  const port = (server.address() as AddressInfo).port;
  cookieName = tokenCookieName(port);
  hosts = allowedHosts(host, port);

  return {
    url: `http://${host}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serveSocket(ws: WebSocket, service: SkepService): void {
  let inFlight = 0;
  const send = (frame: ServerFrame): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_UNSENT_BYTES) {
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(frame));
  };
  const unsubscribe = service.subscribe((event) => send({ event }));
  ws.on('close', unsubscribe);
  ws.on('error', () => ws.terminate());

  ws.on('message', (data, isBinary) => {
    void (async () => {
      if (isBinary) return send({ id: null, ok: false, error: skepError('INVALID_REQUEST', 'binary frames are not accepted').toEnvelope() });
      let parsedJson: unknown;
      try {
        parsedJson = JSON.parse(data.toString());
      } catch {
        return send({ id: null, ok: false, error: skepError('INVALID_REQUEST', 'malformed JSON').toEnvelope() });
      }
      const frame = requestFrame.safeParse(parsedJson);
      if (!frame.success) {
        return send({ id: null, ok: false, error: skepError('INVALID_REQUEST', 'expected {id, method, params}').toEnvelope() });
      }
      if (inFlight >= MAX_CALLS_IN_FLIGHT) {
        return send({ id: frame.data.id, ok: false, error: skepError('INVALID_REQUEST', `more than ${MAX_CALLS_IN_FLIGHT} calls at once`).toEnvelope() });
      }
      inFlight++;
      try {
        const reply = await dispatchCall(service, frame.data.method, frame.data.params);
        send({ id: frame.data.id, ...reply });
      } finally {
        inFlight--;
      }
    })();
  });
}

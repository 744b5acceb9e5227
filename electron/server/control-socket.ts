// The control socket: how the `skep` CLI talks to its local daemon, as `docker` talks to `dockerd`.
// A unix socket (mode 0600: only the daemon's user may drive it) in a directory no other user may
// write (private-socket.ts), or a Windows named pipe, carrying newline-delimited JSON frames of
// shared/wire.ts — the same frames as the browser-mode WebSocket.
// Bounded like the cluster port: lines of 1 MiB, 128 connections, 64 calls in flight each, and a
// client that leaves replies and events unread is paused, then dropped, instead of growing memory.
import { chmod, rm } from 'node:fs/promises';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { isStreamMethodName, type Reply, type SkepService, type SkepStreams, type StreamMethodName } from '../../shared/api.js';
import { requestFrame, STREAM_PARAMS } from '../../shared/api-schemas.js';
import { dispatchCall } from '../../shared/dispatch.js';
import { skepError, toErrorEnvelope } from '../../shared/errors.js';
import type { ControlFrame, ReplyFrame } from '../../shared/wire.js';
import { preparePrivateSocketDir } from './private-socket.js';

export const MAX_LINE_BYTES = 1024 * 1024;
/** The CLI opens one per command, `skep ui` one more; more than this is a runaway script. */
export const MAX_CONTROL_CONNECTIONS = 128;
export const MAX_CALLS_IN_FLIGHT = 64;
/** Unsent replies and events above which a client's requests wait (it is not reading). */
const PAUSE_READING_ABOVE_BYTES = 1024 * 1024;
/** Unsent bytes above which the client is gone for all we can tell: events stop piling up for it. */
const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** `unix:///run/skep/skep.sock` or a bare path → the filesystem path (or pipe name). */
export function controlPath(address: string): string {
  if (address.startsWith('unix://')) return address.slice('unix://'.length);
  if (address.startsWith('npipe://')) return address.slice('npipe://'.length).replace(/\//g, '\\');
  return address;
}

function isSocketAlive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export async function startControlServer(address: string, service: SkepService): Promise<ControlServer> {
  const socketPath = controlPath(address);
  if (process.platform !== 'win32') {
    await preparePrivateSocketDir(socketPath);
    if (await isSocketAlive(socketPath)) throw skepError('CONTROL_SOCKET_IN_USE', socketPath);
    // A socket file left by a daemon that died: nobody answers on it, so it is safe to replace.
    await rm(socketPath, { force: true });
  }
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => serveConnection(socket, service, connections));
  server.maxConnections = MAX_CONTROL_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Created with no permissions for others from the first instant, then narrowed to 0600.
    const previous = process.umask(0o177);
    server.listen(socketPath, () => {
      process.umask(previous);
      resolve();
    });
  });
  if (process.platform !== 'win32') await chmod(socketPath, 0o600);
  return {
    path: socketPath,
    close: async () => {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (process.platform !== 'win32') await rm(socketPath, { force: true });
    },
  };
}

function serveConnection(socket: net.Socket, service: SkepService, connections: Set<net.Socket>): void {
  connections.add(socket);
  let buffered = '';
  const utf8 = new StringDecoder('utf8');
  let inFlight = 0;
  let paused = false;
  const mayRead = (): boolean => inFlight < MAX_CALLS_IN_FLIGHT && socket.writableLength <= PAUSE_READING_ABOVE_BYTES;
  const send = (frame: ControlFrame): void => {
    if (socket.destroyed) return;
    if (socket.writableLength > MAX_UNSENT_BYTES) {
      socket.destroy();
      return;
    }
    socket.write(JSON.stringify(frame) + '\n');
  };
  // Events flow to every client, as on the WebSocket: `skep ui` in front of a daemon draws from them.
  const unsubscribe = service.subscribe((event) => send({ event }));
  // Streaming calls last while their client is here (each holds one of its in-flight slots).
  const gone = new AbortController();
  socket.on('close', () => {
    gone.abort();
    unsubscribe();
    connections.delete(socket);
  });
  socket.on('error', () => socket.destroy());
  // Lines are taken one at a time and only while the client reads what it is sent, so a client
  // that pipelines calls without reading replies stalls itself, not the daemon.
  const pump = (): void => {
    let newline: number;
    while (mayRead() && (newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() === '') continue;
      inFlight++;
      void handleLine(line, service, { send, gone: gone.signal }).then((reply) => {
        inFlight--;
        send(reply);
        pump();
      });
    }
    if (buffered.length > MAX_LINE_BYTES && !buffered.includes('\n')) {
      send({ id: null, ok: false, error: skepError('INVALID_REQUEST', 'request too large').toEnvelope() });
      socket.end();
      return;
    }
    const read = mayRead();
    if (read && paused) socket.resume();
    else if (!read && !paused) socket.pause();
    paused = !read;
  };
  socket.on('drain', pump);
  socket.on('data', (chunk: Buffer) => {
    buffered += utf8.write(chunk);
    pump();
  });
}

/** A streaming call: its parts go out as chunk frames, its end as the reply. */
async function runStream(service: SkepService & Partial<SkepStreams>, method: StreamMethodName, params: unknown, chunk: (part: unknown) => void, gone: AbortSignal): Promise<Reply> {
  const implementation = service[method];
  if (typeof implementation !== 'function') return { ok: false, error: skepError('UNKNOWN_METHOD', method).toEnvelope() };
  const parsed = STREAM_PARAMS[method].safeParse(params);
  if (!parsed.success) return { ok: false, error: skepError('INVALID_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')).toEnvelope() };
  try {
    const [ref, options] = parsed.data;
    await implementation.call(service, ref, options, chunk, gone);
    return { ok: true, result: null };
  } catch (error) {
    return { ok: false, error: toErrorEnvelope(error) };
  }
}

async function handleLine(line: string, service: SkepService, stream: { send: (frame: ControlFrame) => void; gone: AbortSignal }): Promise<ReplyFrame> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { id: null, ok: false, error: skepError('INVALID_REQUEST', 'malformed JSON').toEnvelope() };
  }
  const frame = requestFrame.safeParse(json);
  if (!frame.success) return { id: null, ok: false, error: skepError('INVALID_REQUEST', 'expected {id, method, params}').toEnvelope() };
  const { id, method } = frame.data;
  if (isStreamMethodName(method)) return { id, ...(await runStream(service, method, frame.data.params, (chunk) => stream.send({ id, chunk }), stream.gone)) };
  const reply = await dispatchCall(service, frame.data.method, frame.data.params);
  return { id: frame.data.id, ...reply };
}

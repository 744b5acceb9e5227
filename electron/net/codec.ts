// Message encoding inside a frame. One byte of kind, a small fixed header, then a body.
// A body is JSON plus binary attachments: every Uint8Array (Buffer included) in the value is
// replaced by a placeholder and its bytes are appended raw after the JSON, so Raft entries cross
// the wire without base64 inflation. A body without attachments is decoded with a plain
// JSON.parse (no reviver), which keeps the common control-RPC path fast.
//
//   frame   = u32 length | payload
//   payload = kind u8 | header | body
//   REQUEST  header = id u32 | method length u8 | method utf-8
//   RESPONSE header = id u32            ERROR header = id u32 (body = ErrorEnvelope)
//   NOTIFY   header = method length u8 | method utf-8
//   HELLO    header = (none)            PING, PONG: no header, no body
//   body    = json length u32 | json utf-8 | (attachment length u32 | bytes)*
//   json length 0 means the body is undefined.

import { isErrorCode, skepError, type ErrorEnvelope } from '../../shared/errors.js';
import { FRAME_HEADER_BYTES } from './frame.js';

export const MessageKind = {
  Request: 1,
  Response: 2,
  Error: 3,
  Notify: 4,
  Hello: 5,
  Ping: 6,
  Pong: 7,
} as const;

export type Message =
  | { readonly kind: typeof MessageKind.Request; readonly id: number; readonly method: string; readonly body: unknown }
  | { readonly kind: typeof MessageKind.Response; readonly id: number; readonly body: unknown }
  | { readonly kind: typeof MessageKind.Error; readonly id: number; readonly error: ErrorEnvelope }
  | { readonly kind: typeof MessageKind.Notify; readonly method: string; readonly body: unknown }
  | { readonly kind: typeof MessageKind.Hello; readonly body: unknown }
  | { readonly kind: typeof MessageKind.Ping }
  | { readonly kind: typeof MessageKind.Pong };

export const MAX_METHOD_BYTES = 255;

// A key no JSON a person writes will contain, so placeholders cannot collide with data.
const BINARY_KEY = '\u0000bin';

interface EncodedBody {
  readonly json: Buffer | null;
  readonly attachments: readonly Uint8Array[];
  readonly bytes: number;
}

function encodeBody(body: unknown): EncodedBody {
  if (body === undefined) return { json: null, attachments: [], bytes: 4 };
  const attachments: Uint8Array[] = [];
  // A function (not an arrow) so `this` is the holder: Buffer#toJSON runs before the replacer
  // sees the value, so the original Buffer is only reachable through the holder.
  const text = JSON.stringify(body, function (this: Record<string, unknown>, key: string, value: unknown) {
    const original = this[key];
    if (original instanceof Uint8Array) {
      attachments.push(original);
      return { [BINARY_KEY]: attachments.length - 1 };
    }
    return value;
  }) as string | undefined;
  if (text === undefined) return { json: null, attachments: [], bytes: 4 };
  const json = Buffer.from(text, 'utf8');
  let bytes = 4 + json.length;
  for (const a of attachments) bytes += 4 + a.byteLength;
  return { json, attachments, bytes };
}

function writeBody(out: Buffer, offset: number, body: EncodedBody): number {
  if (body.json === null) {
    out.writeUInt32BE(0, offset);
    return offset + 4;
  }
  out.writeUInt32BE(body.json.length, offset);
  offset += 4;
  offset += body.json.copy(out, offset);
  for (const a of body.attachments) {
    out.writeUInt32BE(a.byteLength, offset);
    offset += 4;
    out.set(a, offset);
    offset += a.byteLength;
  }
  return offset;
}

/** Encodes a message as one complete frame (length prefix included). */
export function encodeMessage(message: Message, maxFrameBytes: number): Buffer {
  let method: Buffer | null = null;
  let header = 1;
  let body: EncodedBody | null = null;
  switch (message.kind) {
    case MessageKind.Request:
      method = encodeMethod(message.method);
      header += 4 + 1 + method.length;
      body = encodeBody(message.body);
      break;
    case MessageKind.Response:
      header += 4;
      body = encodeBody(message.body);
      break;
    case MessageKind.Error:
      header += 4;
      body = encodeBody(message.error);
      break;
    case MessageKind.Notify:
      method = encodeMethod(message.method);
      header += 1 + method.length;
      body = encodeBody(message.body);
      break;
    case MessageKind.Hello:
      body = encodeBody(message.body);
      break;
    case MessageKind.Ping:
    case MessageKind.Pong:
      break;
  }
  const payloadBytes = header + (body === null ? 0 : body.bytes);
  if (payloadBytes > maxFrameBytes) {
    throw skepError('PROTOCOL_ERROR', `message of ${payloadBytes} bytes exceeds the limit of ${maxFrameBytes} bytes`);
  }
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  out.writeUInt32BE(payloadBytes, 0);
  out.writeUInt8(message.kind, 4);
  let offset = 5;
  if (message.kind === MessageKind.Request || message.kind === MessageKind.Response || message.kind === MessageKind.Error) {
    out.writeUInt32BE(message.id, offset);
    offset += 4;
  }
  if (method !== null) {
    out.writeUInt8(method.length, offset);
    offset += 1;
    offset += method.copy(out, offset);
  }
  if (body !== null) offset = writeBody(out, offset, body);
  return out;
}

function encodeMethod(method: string): Buffer {
  const bytes = Buffer.from(method, 'utf8');
  if (bytes.length === 0 || bytes.length > MAX_METHOD_BYTES) {
    throw skepError('INVALID_REQUEST', `method names must be 1 to ${MAX_METHOD_BYTES} bytes`);
  }
  return bytes;
}

function protocolError(reason: string): Error {
  return skepError('PROTOCOL_ERROR', reason);
}

class Reader {
  offset = 0;
  constructor(readonly buf: Buffer) {}
  u8(): number {
    if (this.offset + 1 > this.buf.length) throw protocolError('truncated message');
    return this.buf.readUInt8(this.offset++);
  }
  u32(): number {
    if (this.offset + 4 > this.buf.length) throw protocolError('truncated message');
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  bytes(n: number): Buffer {
    if (this.offset + n > this.buf.length) throw protocolError('truncated message');
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  method(): string {
    const n = this.u8();
    if (n === 0) throw protocolError('empty method name');
    return this.bytes(n).toString('utf8');
  }
  body(): unknown {
    const jsonBytes = this.u32();
    if (jsonBytes === 0) {
      if (this.offset !== this.buf.length) throw protocolError('trailing bytes after message');
      return undefined;
    }
    const json = this.bytes(jsonBytes).toString('utf8');
    const attachments: Uint8Array[] = [];
    while (this.offset < this.buf.length) {
      const n = this.u32();
      // Copied out of the socket chunk: a retained Raft entry must not pin a 64 KiB read buffer.
      attachments.push(Uint8Array.prototype.slice.call(this.bytes(n)));
    }
    try {
      if (attachments.length === 0) return JSON.parse(json) as unknown;
      return JSON.parse(json, (_key, value: unknown) => {
        if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, BINARY_KEY)) {
          const index = (value as Record<string, unknown>)[BINARY_KEY];
          const attachment = typeof index === 'number' ? attachments[index] : undefined;
          if (attachment === undefined) throw protocolError('bad attachment reference');
          return attachment;
        }
        return value;
      }) as unknown;
    } catch (error) {
      if (error instanceof SyntaxError) throw protocolError('malformed JSON body');
      throw error;
    }
  }
  end(): void {
    if (this.offset !== this.buf.length) throw protocolError('trailing bytes after message');
  }
}

/** Decodes one frame payload. Anything malformed throws PROTOCOL_ERROR. */
export function decodeMessage(payload: Buffer): Message {
  const r = new Reader(payload);
  const kind = r.u8();
  switch (kind) {
    case MessageKind.Request: {
      const id = r.u32();
      const method = r.method();
      return { kind, id, method, body: r.body() };
    }
    case MessageKind.Response: {
      const id = r.u32();
      return { kind, id, body: r.body() };
    }
    case MessageKind.Error: {
      const id = r.u32();
      return { kind, id, error: toEnvelope(r.body()) };
    }
    case MessageKind.Notify: {
      const method = r.method();
      return { kind, method, body: r.body() };
    }
    case MessageKind.Hello:
      return { kind, body: r.body() };
    case MessageKind.Ping:
    case MessageKind.Pong:
      r.end();
      return { kind };
    default:
      throw protocolError(`unknown message kind ${kind}`);
  }
}

function toEnvelope(value: unknown): ErrorEnvelope {
  if (value === null || typeof value !== 'object') throw protocolError('malformed error envelope');
  const v = value as Record<string, unknown>;
  if (typeof v['message'] !== 'string') throw protocolError('malformed error envelope');
  // A newer peer may know codes this build does not; keep its words, file them as INTERNAL.
  const code = isErrorCode(v['code']) ? v['code'] : 'INTERNAL';
  const details = v['details'];
  return details !== null && typeof details === 'object' && !Array.isArray(details)
    ? { code, message: v['message'], details: details as Record<string, unknown> }
    : { code, message: v['message'] };
}

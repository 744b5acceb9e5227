import { describe, expect, it } from 'vitest';
import { SkepError } from '../../../shared/errors.js';
import { FrameDecoder, MessageKind, decodeMessage, encodeMessage, type Message } from '../../../electron/net/index.js';

const MAX = 1024 * 1024;

function roundTrip(message: Message): Message {
  const frame = encodeMessage(message, MAX);
  const frames: Buffer[] = [];
  new FrameDecoder(MAX).push(frame, (p) => frames.push(p));
  expect(frames).toHaveLength(1);
  return decodeMessage(frames[0] as Buffer);
}

describe('framing', () => {
  it('reassembles frames split at every byte and several frames in one chunk', () => {
    const a = encodeMessage({ kind: MessageKind.Notify, method: 'm', body: { n: 1 } }, MAX);
    const b = encodeMessage({ kind: MessageKind.Notify, method: 'm', body: { n: 2 } }, MAX);
    const wire = Buffer.concat([a, b, a]);
    const decoder = new FrameDecoder(MAX);
    const out: unknown[] = [];
    for (let i = 0; i < wire.length; i++) decoder.push(wire.subarray(i, i + 1), (p) => out.push(decodeMessage(p)));
    expect(out).toEqual([
      { kind: MessageKind.Notify, method: 'm', body: { n: 1 } },
      { kind: MessageKind.Notify, method: 'm', body: { n: 2 } },
      { kind: MessageKind.Notify, method: 'm', body: { n: 1 } },
    ]);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('refuses an oversized length from the header alone', () => {
    const decoder = new FrameDecoder(1000);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xffff_ffff);
    expect(() => decoder.push(header, () => {})).toThrow(SkepError);
  });

  it('refuses to encode a message over the limit', () => {
    expect(() => encodeMessage({ kind: MessageKind.Notify, method: 'm', body: new Uint8Array(2000) }, 1000)).toThrow(/exceeds the limit/);
  });
});

describe('message codec', () => {
  it('round-trips JSON bodies of every kind', () => {
    expect(roundTrip({ kind: MessageKind.Request, id: 7, method: 'a.b', body: { x: [1, 'two', null] } }))
      .toEqual({ kind: MessageKind.Request, id: 7, method: 'a.b', body: { x: [1, 'two', null] } });
    expect(roundTrip({ kind: MessageKind.Response, id: 0xffff_ffff, body: 'ok' })).toEqual({ kind: MessageKind.Response, id: 0xffff_ffff, body: 'ok' });
    expect(roundTrip({ kind: MessageKind.Response, id: 1, body: undefined })).toEqual({ kind: MessageKind.Response, id: 1, body: undefined });
    expect(roundTrip({ kind: MessageKind.Error, id: 3, error: { code: 'NODE_NOT_FOUND', message: 'node x not found', details: { a: 1 } } }))
      .toEqual({ kind: MessageKind.Error, id: 3, error: { code: 'NODE_NOT_FOUND', message: 'node x not found', details: { a: 1 } } });
    expect(roundTrip({ kind: MessageKind.Ping })).toEqual({ kind: MessageKind.Ping });
    expect(roundTrip({ kind: MessageKind.Hello, body: { v: 1 } })).toEqual({ kind: MessageKind.Hello, body: { v: 1 } });
  });

  it('carries Uint8Array and Buffer fields as raw bytes', () => {
    const entry = new Uint8Array([0, 1, 2, 255]);
    const message = roundTrip({
      kind: MessageKind.Notify,
      method: 'raft',
      body: { term: 3, entries: [{ index: 1, data: entry }, { index: 2, data: Buffer.from('hi') }], top: new Uint8Array(0) },
    });
    expect(message.kind).toBe(MessageKind.Notify);
    const body = (message as { body: { entries: { data: Uint8Array }[]; top: Uint8Array } }).body;
    expect(body.entries[0]?.data).toBeInstanceOf(Uint8Array);
    expect([...(body.entries[0]?.data ?? [])]).toEqual([0, 1, 2, 255]);
    expect(Buffer.from(body.entries[1]?.data ?? []).toString()).toBe('hi');
    expect(body.top.byteLength).toBe(0);
    // A body that is only bytes works too.
    const raw = roundTrip({ kind: MessageKind.Notify, method: 'x', body: new Uint8Array([9]) }) as { body: Uint8Array };
    expect([...raw.body]).toEqual([9]);
  });

  it('maps unknown error codes from a newer peer to INTERNAL, keeping the words', () => {
    const m = roundTrip({ kind: MessageKind.Error, id: 1, error: { code: 'FROM_THE_FUTURE' as never, message: 'words' } });
    expect(m).toEqual({ kind: MessageKind.Error, id: 1, error: { code: 'INTERNAL', message: 'words' } });
  });

  it('rejects malformed payloads with PROTOCOL_ERROR', () => {
    const cases = [
      Buffer.from([]),
      Buffer.from([99]),
      Buffer.from([MessageKind.Request, 0, 0]),
      Buffer.from([MessageKind.Notify, 0]),
      Buffer.concat([Buffer.from([MessageKind.Hello, 0, 0, 0, 3]), Buffer.from('{{{')]),
      Buffer.concat([Buffer.from([MessageKind.Hello, 0, 0, 0, 10]), Buffer.from('{}')]),
      Buffer.from([MessageKind.Ping, 1]),
      Buffer.concat([Buffer.from([MessageKind.Hello, 0, 0, 0, 15]), Buffer.from('{"\\u0000bin":4}'), Buffer.from([0, 0, 0, 0])]),
    ];
    for (const c of cases) {
      let error: unknown;
      try {
        decodeMessage(c);
      } catch (e) {
        error = e;
      }
      expect(error, c.toString('hex')).toBeInstanceOf(SkepError);
      expect((error as SkepError).code).toBe('PROTOCOL_ERROR');
    }
  });
});

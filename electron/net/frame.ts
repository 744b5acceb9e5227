// Length-prefixed framing: u32 big-endian payload length, then the payload.
// The decoder keeps a list of chunks instead of concatenating on every read, so a 16 MiB frame
// arriving in 16 KiB reads costs one copy, not a thousand.
// Frames are pulled one at a time (next()), so a connection that stops reading also stops
// dispatching: what is left of a chunk waits in the decoder instead of becoming work.

import { skepError } from '../../shared/errors.js';

export const FRAME_HEADER_BYTES = 4;
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length of the frame being read; -1 while its header is incomplete. */
  private expected = -1;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes held for frames not yet taken. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Appends bytes from the wire; take frames with next(). */
  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete payload, or undefined until more bytes arrive.
   * Throws PROTOCOL_ERROR as soon as a header announces an oversized frame, before buffering it.
   */
  next(): Buffer | undefined {
    if (this.expected < 0) {
      if (this.buffered < FRAME_HEADER_BYTES) return undefined;
      const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
      if (length > this.maxFrameBytes) {
        throw skepError('PROTOCOL_ERROR', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes} bytes`);
      }
      this.expected = length;
    }
    if (this.buffered < this.expected) return undefined;
    const payload = this.take(this.expected);
    this.expected = -1;
    return payload;
  }

  /** Appends bytes and calls onFrame for every complete payload. */
  push(chunk: Buffer, onFrame: (payload: Buffer) => void): void {
    this.append(chunk);
    for (let payload = this.next(); payload !== undefined; payload = this.next()) onFrame(payload);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const head = this.chunks[0];
      if (head === undefined) break;
      const count = Math.min(head.length, n - offset);
      head.copy(out, offset, 0, count);
      offset += count;
      if (count === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(count);
    }
    this.buffered -= n;
    return out;
  }
}

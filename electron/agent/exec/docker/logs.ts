// Docker's multiplexed log stream (a container without a TTY) as lines: each frame is an 8-byte
// header (stream type, 3 zero bytes, payload length big-endian) and its payload; a line may span
// frames, so partial lines wait per stream for their newline.
import type { LogLine } from '../types.js';

const HEADER_BYTES = 8;
const NEWLINE = 0x0a;
const STREAMS: Readonly<Record<number, LogLine['stream']>> = { 1: 'stdout', 2: 'stderr' };

export async function* demultiplexLogs(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, timestamps: boolean): AsyncGenerator<LogLine> {
  let pending: Buffer = Buffer.alloc(0);
  // Bytes, not text: Docker cuts long lines into frames anywhere, even inside a character.
  const partial: Record<LogLine['stream'], Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };

  for await (const chunk of source) {
    pending = Buffer.concat([pending, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    while (pending.length >= HEADER_BYTES) {
      const size = pending.readUInt32BE(4);
      if (pending.length < HEADER_BYTES + size) break;
      const stream = STREAMS[pending[0] ?? 0];
      const payload = pending.subarray(HEADER_BYTES, HEADER_BYTES + size);
      pending = pending.subarray(HEADER_BYTES + size);
      if (!stream) continue; // stdin frames never carry log output
      let text = Buffer.concat([partial[stream], payload]);
      let newline: number;
      while ((newline = text.indexOf(NEWLINE)) >= 0) {
        yield toLogLine(stream, text.subarray(0, newline).toString('utf8'), timestamps);
        text = text.subarray(newline + 1);
      }
      partial[stream] = text;
    }
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    if (partial[stream].length > 0) yield toLogLine(stream, partial[stream].toString('utf8'), timestamps);
  }
}

function toLogLine(stream: LogLine['stream'], line: string, timestamps: boolean): LogLine {
  if (!timestamps) return { stream, text: line };
  const space = line.indexOf(' ');
  if (space < 0) return { stream, text: '', timestamp: line };
  return { stream, text: line.slice(space + 1), timestamp: line.slice(0, space) };
}

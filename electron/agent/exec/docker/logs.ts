// Docker's multiplexed log stream (a container without a TTY) as lines: each frame is an 8-byte
// header (stream type, 3 zero bytes, payload length big-endian) and its payload; a line may span
// frames, so partial lines wait per stream for their newline.
import type { LogLine } from '../types.js';

const HEADER_BYTES = 8;
const STREAMS: Readonly<Record<number, LogLine['stream']>> = { 1: 'stdout', 2: 'stderr' };

export async function* demultiplexLogs(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, timestamps: boolean): AsyncGenerator<LogLine> {
  let pending: Buffer = Buffer.alloc(0);
  const partial: Record<LogLine['stream'], string> = { stdout: '', stderr: '' };

  for await (const chunk of source) {
    pending = Buffer.concat([pending, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    while (pending.length >= HEADER_BYTES) {
      const size = pending.readUInt32BE(4);
      if (pending.length < HEADER_BYTES + size) break;
      const stream = STREAMS[pending[0] ?? 0];
      const payload = pending.subarray(HEADER_BYTES, HEADER_BYTES + size).toString('utf8');
      pending = pending.subarray(HEADER_BYTES + size);
      if (!stream) continue; // stdin frames never carry log output
      const text = partial[stream] + payload;
      const lines = text.split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) yield toLogLine(stream, line, timestamps);
    }
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    if (partial[stream] !== '') yield toLogLine(stream, partial[stream], timestamps);
  }
}

function toLogLine(stream: LogLine['stream'], line: string, timestamps: boolean): LogLine {
  if (!timestamps) return { stream, text: line };
  const space = line.indexOf(' ');
  if (space < 0) return { stream, text: '', timestamp: line };
  return { stream, text: line.slice(space + 1), timestamp: line.slice(0, space) };
}

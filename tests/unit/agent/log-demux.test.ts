// Docker's multiplexed log frames back into lines, however the bytes are cut into chunks.
import { describe, expect, it } from 'vitest';
import { demultiplexLogs } from '../../../electron/agent/exec/docker/logs.js';
import type { LogLine } from '../../../electron/agent/exec/types.js';

function frame(stream: 1 | 2, text: string | Buffer): Buffer {
  const payload = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function lines(chunks: Buffer[], timestamps = false): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const line of demultiplexLogs(chunks, timestamps)) out.push(line);
  return out;
}

describe('demultiplexLogs', () => {
  const bytes = Buffer.concat([frame(1, 'out-1\nout-'), frame(2, 'err-1\n'), frame(1, '2\n'), frame(2, 'no newline at the end')]);
  const expected: LogLine[] = [
    { stream: 'stdout', text: 'out-1' },
    { stream: 'stderr', text: 'err-1' },
    { stream: 'stdout', text: 'out-2' },
    { stream: 'stderr', text: 'no newline at the end' },
  ];

  it('keeps the streams apart and joins a line split across frames', async () => {
    expect(await lines([bytes])).toEqual(expected);
  });

  it('gives the same lines for every way of cutting the bytes into chunks', async () => {
    for (let cut = 1; cut < bytes.length; cut += 1) {
      expect(await lines([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
    }
    expect(await lines([...bytes].map((byte) => Buffer.from([byte])))).toEqual(expected);
  });

  it("splits Docker's timestamp from the text, and keeps multi-byte characters whole", async () => {
    const text = Buffer.from('2026-11-29T20:25:03.123456789Z grüße\n');
    const insideCharacter = text.indexOf(Buffer.from('ü')) + 1;
    // Two frames, cut inside "ü", each delivered in two chunks cut inside the character too.
    const framed = Buffer.concat([frame(1, text.subarray(0, insideCharacter)), frame(1, text.subarray(insideCharacter))]);
    const cut = framed.indexOf(Buffer.from([0xc3])) + 1;
    expect(await lines([framed.subarray(0, cut), framed.subarray(cut)], true)).toEqual([
      { stream: 'stdout', text: 'grüße', timestamp: '2026-11-29T20:25:03.123456789Z' },
    ]);
  });
});

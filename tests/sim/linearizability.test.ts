import { describe, expect, it } from 'vitest';
import { type HistoryOp, checkLinearizable } from './linearizability.js';

let nextId = 0;
function op(kind: HistoryOp['kind'], value: string, call: number, ret: number, output: string | null = null, key = 'k'): HistoryOp {
  return { id: nextId++, key, kind, value, output, call, ret };
}

describe('the linearizability checker', () => {
  it('accepts a sequential history', () => {
    expect(checkLinearizable([op('put', '<1>', 1, 2), op('get', '', 3, 4, '<1>'), op('append', '<2>', 5, 6), op('get', '', 7, 8, '<1><2>')]).result).toBe('ok');
  });

  it('accepts concurrent operations in either order', () => {
    const h = [op('put', '<1>', 1, 10), op('put', '<2>', 2, 9), op('get', '', 11, 12, '<1>')];
    expect(checkLinearizable(h).result).toBe('ok');
  });

  it('rejects a stale read after a completed write', () => {
    const h = [op('put', '<1>', 1, 2), op('put', '<2>', 3, 4), op('get', '', 5, 6, '<1>')];
    expect(checkLinearizable(h)).toMatchObject({ result: 'illegal', badKey: 'k' });
  });

  it('rejects two reads that see writes in opposite orders', () => {
    const h = [
      op('append', '<1>', 1, 20),
      op('append', '<2>', 1, 20),
      op('get', '', 2, 19, '<1><2>'),
      op('get', '', 3, 18, '<2><1>'),
    ];
    expect(checkLinearizable(h).result).toBe('illegal');
  });

  it('lets a write that never returned take effect or not', () => {
    expect(checkLinearizable([op('put', '<1>', 1, Infinity), op('get', '', 5, 6, '<1>')]).result).toBe('ok');
    expect(checkLinearizable([op('put', '<1>', 1, Infinity), op('get', '', 5, 6, '')]).result).toBe('ok');
    // But not take effect, then vanish.
    const h = [op('put', '<1>', 1, Infinity), op('get', '', 5, 6, '<1>'), op('get', '', 7, 8, '')];
    expect(checkLinearizable(h).result).toBe('illegal');
  });

  it('checks keys independently', () => {
    const h = [op('put', '<1>', 1, 2, null, 'a'), op('get', '', 3, 4, '', 'b'), op('get', '', 5, 6, '<1>', 'a')];
    expect(checkLinearizable(h).result).toBe('ok');
  });

  it('reports undecided, never ok, when the step budget runs out', () => {
    const h: HistoryOp[] = [];
    for (let i = 0; i < 5; i++) h.push(op('append', `<${i}>`, 1, 100));
    h.push(op('get', '', 101, 102, Array.from({ length: 5 }, (_, i) => `<${4 - i}>`).join('')));
    expect(checkLinearizable(h, 10).result).toBe('undecided');
    expect(checkLinearizable(h).result).toBe('ok');
  });
});

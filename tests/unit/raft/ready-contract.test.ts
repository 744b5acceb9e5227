import { describe, expect, it } from 'vitest';
import { mustSync } from '../../../electron/raft/core/index.js';
import { data, drain, ids, newCore } from './harness.js';

// The Ready/advance contract the host relies on.
describe('Ready and advance', () => {
  it('mustSync is true exactly when term, vote or log change', () => {
    const hs = { term: 2, vote: 'a', commit: 3 };
    expect(mustSync(hs, { ...hs, commit: 9 }, 0)).toBe(false);
    expect(mustSync(hs, { ...hs, term: 3 }, 0)).toBe(true);
    expect(mustSync(hs, { ...hs, vote: 'b' }, 0)).toBe(true);
    expect(mustSync(hs, hs, 1)).toBe(true);
  });

  it('hardState and softState appear only when they changed', () => {
    const core = newCore('n1', ids(1));
    drain(core);
    core.campaign();
    const first = core.ready();
    expect(first.softState).toEqual({ leader: 'n1', role: 'leader' });
    expect(first.hardState).toMatchObject({ term: 2, vote: 'n1' });
    core.advance();
    core.tick();
    const { readies } = drain(core);
    for (const rd of readies) {
      expect(rd.softState).toBeUndefined();
      expect(rd.hardState?.term ?? 2).toBe(2);
    }
  });

  it('entries come once for persisting and once, committed, for applying', () => {
    const core = newCore('n1', ids(1));
    core.campaign();
    drain(core);
    core.propose(data('p'));
    const rd = core.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([3]);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([3]);
    core.advance();
    expect(core.hasReady()).toBe(false);
    expect(core.status()).toMatchObject({ commit: 3, applied: 3 });
  });

  it('ready() twice without advance() is a host bug and throws', () => {
    const core = newCore('n1', ids(1));
    core.campaign();
    core.ready();
    expect(() => core.ready()).toThrow(/advance/);
  });

  it('the same seed gives the same run: the core is deterministic', () => {
    const run = (): string => {
      const core = newCore('n1', ids(3));
      const out: string[] = [];
      for (let i = 0; i < 40; i++) {
        core.tick();
        out.push(...drain(core).messages.map((m) => `${m.type}>${m.to}@${m.term}`));
      }
      return out.join(',');
    };
    expect(run()).toBe(run());
  });
});

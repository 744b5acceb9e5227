import { describe, expect, it } from 'vitest';
import { faultTolerance, faultToleranceSentence, hasQuorum, isLastManager, quorumSize, removalLosesQuorum } from '../../../shared/quorum.js';

describe('quorum math', () => {
  it.each([
    [1, 1, 0],
    [2, 2, 0],
    [3, 2, 1],
    [4, 3, 1],
    [5, 3, 2],
    [7, 4, 3],
  ])('%i managers need %i for quorum and tolerate %i failures', (managers, quorum, tolerance) => {
    expect(quorumSize(managers)).toBe(quorum);
    expect(faultTolerance(managers)).toBe(tolerance);
    expect(hasQuorum(quorum, managers)).toBe(true);
    expect(hasQuorum(quorum - 1, managers)).toBe(false);
  });

  it('has no quorum without managers', () => {
    expect(hasQuorum(0, 0)).toBe(false);
    expect(faultTolerance(0)).toBe(0);
  });

  it("warns on leaving exactly where Docker does (reachable-2 <= unreachable)", () => {
    expect(removalLosesQuorum(3, 0)).toBe(false);
    expect(removalLosesQuorum(2, 1)).toBe(true);
    expect(removalLosesQuorum(2, 0)).toBe(true);
    expect(removalLosesQuorum(5, 0)).toBe(false);
    expect(removalLosesQuorum(3, 2)).toBe(true);
    expect(isLastManager(1, 0)).toBe(true);
    expect(isLastManager(1, 1)).toBe(false);
  });

  it('says the fault tolerance in one sentence', () => {
    expect(faultToleranceSentence(3)).toBe('3 managers — can lose 1');
    expect(faultToleranceSentence(2)).toBe('2 managers — can lose none');
    expect(faultToleranceSentence(1)).toBe('1 manager — can lose none');
  });
});

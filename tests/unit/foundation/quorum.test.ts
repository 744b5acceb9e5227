import { describe, expect, it } from 'vitest';
import { canLose, canLoseText, faultTolerance, faultToleranceSentence, hasQuorum, isLastManager, managerCountChange, quorumSize, removalLosesQuorum } from '../../../shared/quorum.js';

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

  it('counts "can lose" as the reachable managers beyond the quorum', () => {
    expect(canLose({ managers: 3, reachable: 3 })).toBe(1);
    expect(canLose({ managers: 3, reachable: 2 })).toBe(0);
    expect(canLose({ managers: 3, reachable: 1 })).toBeNull();
    expect(canLose({ managers: 1, reachable: 1 })).toBe(0);
    expect(canLose({ managers: 2, reachable: 2 })).toBe(0);
    expect(canLoseText({ managers: 5, reachable: 5 })).toBe('can lose 2');
    expect(canLoseText({ managers: 2, reachable: 2 })).toBe('can lose none');
    expect(canLoseText({ managers: 2, reachable: 1 })).toBe('no quorum');
  });

  it.each([
    // before, step, sentence, keeps quorum, even warning
    [{ managers: 3, reachable: 3 }, { kind: 'add', reachable: true }, '3 managers, can lose 1 → 4 managers, can lose 1', true, true],
    [{ managers: 1, reachable: 1 }, { kind: 'add', reachable: true }, '1 manager, can lose none → 2 managers, can lose none', true, true],
    [{ managers: 2, reachable: 2 }, { kind: 'add', reachable: true }, '2 managers, can lose none → 3 managers, can lose 1', true, false],
    [{ managers: 3, reachable: 3 }, { kind: 'remove', reachable: true }, '3 managers, can lose 1 → 2 managers, can lose none', true, true],
    [{ managers: 3, reachable: 2 }, { kind: 'remove', reachable: true }, '2 of 3 managers reachable, can lose none → 1 of 2 managers reachable, no quorum', false, false],
    [{ managers: 3, reachable: 2 }, { kind: 'remove', reachable: false }, '2 of 3 managers reachable, can lose none → 2 managers, can lose none', true, true],
    [{ managers: 5, reachable: 5 }, { kind: 'remove', reachable: true }, '5 managers, can lose 2 → 4 managers, can lose 1', true, true],
    [{ managers: 1, reachable: 1 }, { kind: 'remove', reachable: true }, '1 manager, can lose none → no managers', false, false],
  ] as const)('%j %j: %s', (before, step, sentence, keepsQuorum, even) => {
    const change = managerCountChange(before, step);
    expect(change.sentence).toBe(sentence);
    expect(change.keepsQuorum).toBe(keepsQuorum);
    expect(change.warnings.some((w) => w.startsWith('An even number of managers adds load without adding fault tolerance'))).toBe(even);
  });

  it('warns when the tolerance goes to none, when quorum would be lost, and when the last manager goes', () => {
    expect(managerCountChange({ managers: 3, reachable: 3 }, { kind: 'remove', reachable: true }).warnings).toContain('Afterwards no manager can fail without stopping the swarm.');
    expect(managerCountChange({ managers: 3, reachable: 2 }, { kind: 'remove', reachable: true }).warnings).toEqual([
      '1 of 2 managers would be reachable — not enough for a quorum of 2: nothing in the swarm could change until more managers are back.',
    ]);
    const last = managerCountChange({ managers: 1, reachable: 1 }, { kind: 'remove', reachable: true });
    expect(last.removesLastManager).toBe(true);
    expect(last.warnings[0]).toMatch(/^No manager would be left/);
    expect(managerCountChange({ managers: 4, reachable: 4 }, { kind: 'add', reachable: true }).warnings).toEqual([]);
  });
});

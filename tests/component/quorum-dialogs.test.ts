// Every action that changes the manager count shows fault tolerance before → after, counted by the
// one function in shared/quorum.ts: promote, demote, leave, remove, and joining as a manager. The
// same situation gives the same counts in every dialog; an even count gets its own warning; the
// only manager's removal says what is true.
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import WarningDialog from '../../renderer/src/components/WarningDialog.svelte';
import Swarm from '../../renderer/src/pages/Swarm.svelte';
import { planDemote, planDemoteConfirm, planLeave, planPromote, planRemove, subjectOf, type DialogPlan } from '../../renderer/src/lib/plans.js';
import { skepError } from '../../shared/errors.js';
import type { JoinTokenResult } from '../../shared/types.js';
import { IDS, NODES, member, node, raft, status } from './fixtures.js';

afterEach(cleanup);

const SELF = { id: IDS.a, hostname: 'alpha' };
const bravo = NODES[1]!;
const whiskey = NODES[3]!;
const EVEN = /^An even number of managers adds load without adding fault tolerance/;

/** Three managers, every one reachable. */
const healthy3 = status({ raft: raft({ members: [member(IDS.a, 'alpha', { role: 'leader' }), member(IDS.b, 'bravo'), member(IDS.c, 'charlie')] }) });
/** Three managers, charlie unreachable: no spare. */
const twoOfThree = status({ reachableManagers: 2 });

function shownFacts(plan: DialogPlan): string[] {
  render(WarningDialog, { plan, onanswer: () => undefined });
  return [...screen.getByRole('dialog').querySelectorAll('li')].map((li) => li.textContent ?? '');
}

function toleranceLine(plan: DialogPlan): string | undefined {
  return plan.facts.find((fact) => fact.startsWith('Fault tolerance:'));
}

describe('fault tolerance before → after', () => {
  it('promoting a third manager to a fourth shows "can lose 1 → can lose 1" and the even-count warning, and asks before acting', async () => {
    const plan = planPromote(healthy3, whiskey);
    expect(plan.kind).toBe('promote');
    const facts = shownFacts(plan);
    expect(facts).toContain('Fault tolerance: 3 managers, can lose 1 → 4 managers, can lose 1.');
    expect(facts.some((fact) => EVEN.test(fact) && fact.includes('4 managers can lose 1, as 3 can'))).toBe(true);
    const confirm = screen.getByTestId('dialog-confirm');
    expect(confirm.textContent).toBe('Promote');
    expect(plan.proceed).toEqual({ kind: 'promote', nodeId: IDS.w });
    await fireEvent.click(confirm);
  });

  it('promoting a second manager says 2 are no safer than 1', () => {
    const facts = shownFacts(planPromote(status({ managers: 1, reachableManagers: 1 }), whiskey));
    expect(facts).toContain('Fault tolerance: 1 manager, can lose none → 2 managers, can lose none.');
    expect(facts.some((fact) => EVEN.test(fact) && fact.includes('2 managers can lose none, as 1 can'))).toBe(true);
  });

  it('demoting from 3 to 2 asks first and shows "can lose 1 → can lose none", the even count and the lost tolerance', () => {
    expect(planDemote(healthy3, NODES, subjectOf(bravo))).toBeUndefined(); // not a refusal …
    const plan = planDemoteConfirm(healthy3, NODES, subjectOf(bravo)); // … but still a question
    expect(plan.kind).toBe('demote');
    const facts = shownFacts(plan);
    expect(facts).toContain('Fault tolerance: 3 managers, can lose 1 → 2 managers, can lose none.');
    expect(facts.some((fact) => EVEN.test(fact))).toBe(true);
    expect(facts).toContain('Afterwards no manager can fail without stopping the swarm.');
    expect(plan.proceed).toEqual({ kind: 'demote', nodeId: IDS.b });
  });

  it('a manager leaving shows the same before → after', () => {
    const facts = shownFacts(planLeave(healthy3, SELF));
    expect(facts).toContain('Fault tolerance: 3 managers, can lose 1 → 2 managers, can lose none.');
  });

  it('removing a manager (demote, then remove) shows it too', () => {
    const facts = shownFacts(planRemove(healthy3, NODES, bravo));
    expect(facts).toContain('Fault tolerance: 3 managers, can lose 1 → 2 managers, can lose none.');
  });

  it('leaving as the last manager says no manager is left', () => {
    const facts = shownFacts(planLeave(status({ managers: 1, reachableManagers: 1 }), SELF));
    expect(facts).toContain('Fault tolerance: 1 manager, can lose none → no managers.');
  });

  it('gives the same counts for the same situation in the leave, demote and remove dialogs', () => {
    // alpha and bravo reachable, charlie not: taking a reachable manager away leaves 1 of 2.
    const leave = planLeave(twoOfThree, SELF);
    const demote = planDemote(twoOfThree, NODES, subjectOf(bravo));
    const remove = planRemove(twoOfThree, NODES, bravo);
    expect([leave.kind, demote?.kind, remove.kind]).toEqual(['leave-loses-quorum', 'demote-loses-quorum', 'demote-loses-quorum']);
    const expected = 'Fault tolerance: 2 of 3 managers reachable, can lose none → 1 of 2 managers reachable, no quorum.';
    expect([toleranceLine(leave), toleranceLine(demote!), toleranceLine(remove)]).toEqual([expected, expected, expected]);
    for (const plan of [leave, demote!, remove]) {
      expect(plan.facts.some((fact) => fact.endsWith('1 of 2 managers reachable — not enough for a quorum of 2.'))).toBe(true);
    }
  });

  it('removing yourself as the only manager says so, not "attempting to demote…"', () => {
    const only = node(IDS.a, 'alpha', { role: 'manager', leader: true });
    const plan = planRemove(status({ managers: 1, reachableManagers: 1 }), [only, whiskey], only);
    expect(plan.kind).toBe('remove-last-manager');
    render(WarningDialog, { plan, onanswer: () => undefined });
    const message = screen.getByTestId('dialog-message').textContent ?? '';
    expect(message).toBe(skepError('REMOVE_LAST_MANAGER', IDS.a).message);
    expect(message).not.toContain('attempting to demote');
    expect(screen.getByRole('dialog').textContent).toContain('Fault tolerance: 1 manager, can lose none → no managers.');
    expect(screen.queryByTestId('dialog-confirm')).toBeNull();
  });

  it("the Swarm page tells what a manager joining with the manager token does", () => {
    const fetchToken = (role: 'worker' | 'manager'): Promise<JoinTokenResult> => Promise.resolve({ role, token: 'SKEP-1-x-y', managerAddr: '10.0.0.1:2377' });
    render(Swarm, { status: healthy3, busy: false, oninit: () => Promise.resolve(true), onjoin: () => Promise.resolve(true), onleave: () => undefined, fetchToken });
    const line = screen.getByTestId('manager-join-tolerance').textContent ?? '';
    expect(line).toContain('Fault tolerance: 3 managers, can lose 1 → 4 managers, can lose 1.');
    expect(line).toMatch(/An even number of managers adds load/);
  });
});

// Every warning dialog: the catalog's exact words, the quorum math, keyboard behaviour (Escape
// cancels, focus stays inside, the destructive button is never focused first) and typed confirmation.
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import WarningDialog from '../../renderer/src/components/WarningDialog.svelte';
import { planDemote, planForError, planLeave, planQuorumLost, planRemove, planSwarmExists, subjectOf, type DialogPlan } from '../../renderer/src/lib/plans.js';
import { skepError } from '../../shared/errors.js';
import { IDS, NODES, node, status } from './fixtures.js';

afterEach(cleanup);

const SELF = { id: IDS.a, hostname: 'alpha' };
const whiskey = NODES[3]!;
const bravo = NODES[1]!;

function show(plan: DialogPlan): { answers: boolean[] } {
  const answers: boolean[] = [];
  render(WarningDialog, { plan, onanswer: (confirmed: boolean) => answers.push(confirmed) });
  return { answers };
}

function dialog(): HTMLElement {
  return screen.getByRole('dialog');
}

interface Case {
  readonly name: string;
  readonly plan: DialogPlan;
  readonly kind: DialogPlan['kind'];
  readonly message: string | undefined;
  readonly facts: readonly RegExp[];
  readonly typed?: string;
  readonly confirm?: string;
}

const CASES: readonly Case[] = [
  {
    name: 'leaving as the last manager',
    plan: planLeave(status({ managers: 1, reachableManagers: 1 }), SELF),
    kind: 'leave-last-manager',
    message: skepError('LEAVE_LAST_MANAGER').message,
    facts: [/erases all of the swarm's state/],
    typed: 'alpha',
    confirm: 'Erase the swarm and leave',
  },
  {
    name: 'leaving loses quorum',
    plan: planLeave(status({ managers: 3, reachableManagers: 2 }), SELF),
    kind: 'leave-loses-quorum',
    message: skepError('LEAVE_LOSES_QUORUM', 1, 3).message,
    facts: [
      /^2 of 3 managers are reachable now; a quorum is 2\.$/,
      /^Without this node: 1 of 2 managers reachable — not enough for a quorum of 2\.$/,
      /^Fault tolerance: 2 of 3 managers reachable, can lose none → 1 of 2 managers reachable, no quorum\.$/,
      /nothing in the swarm can change/,
    ],
    typed: IDS.a,
    confirm: 'Leave anyway',
  },
  {
    name: 'demoting the last manager',
    plan: planDemote(status({ managers: 1, reachableManagers: 1 }), [NODES[0]!, whiskey], subjectOf(NODES[0]!))!,
    kind: 'demote-last-manager',
    message: skepError('DEMOTE_LAST_MANAGER').message,
    facts: [/Promote another node to manager first/],
  },
  {
    name: 'demoting loses quorum',
    plan: planDemote(status({ managers: 2, reachableManagers: 2, raft: { term: 1, leaderId: IDS.a, commitIndex: 1, appliedIndex: 1, members: [] } }), NODES, subjectOf(bravo), { code: 'DEMOTE_LOSES_QUORUM', text: skepError('DEMOTE_LOSES_QUORUM').message })!,
    kind: 'demote-loses-quorum',
    message: skepError('DEMOTE_LOSES_QUORUM').message,
    facts: [/^2 of 2 managers are reachable now; a quorum is 2\.$/],
  },
  {
    name: 'removing a node that is not down',
    plan: planRemove(status(), NODES, whiskey),
    kind: 'remove-not-down',
    message: skepError('REMOVE_NODE_NOT_DOWN', IDS.w).message,
    facts: [/keeps running its containers/],
    typed: 'whiskey',
    confirm: 'Remove with force',
  },
  {
    name: 'removing a manager that is not demoted',
    plan: planRemove(status(), NODES, bravo),
    kind: 'remove-manager',
    message: skepError('REMOVE_MANAGER', IDS.b).message,
    facts: [/demote it to a worker first/],
    typed: 'bravo',
    confirm: 'Demote, then remove',
  },
  {
    name: 'quorum lost',
    plan: planQuorumLost(status({ reachableManagers: 1, leaderId: null }), SELF),
    kind: 'quorum-lost',
    message: skepError('NO_LEADER').message,
    facts: [/^1 of 3 managers are reachable now; a quorum is 2\.$/, /skep swarm init --force-new-cluster/, /changes it never received are lost/],
    typed: 'alpha',
    confirm: 'Rebuild the swarm from this manager',
  },
  {
    name: 'already in a swarm',
    plan: planSwarmExists(),
    kind: 'swarm-exists',
    message: skepError('SWARM_EXISTS').message,
    facts: [/Leave the current swarm/],
  },
];

describe('warning dialogs', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      it('is a modal dialog with the catalog text and the math', () => {
        expect(c.plan.kind).toBe(c.kind);
        show(c.plan);
        expect(dialog().getAttribute('aria-modal')).toBe('true');
        expect(dialog().getAttribute('aria-labelledby')).toBeTruthy();
        expect(screen.getByTestId('dialog-message').textContent?.trim()).toBe(c.message);
        const facts = [...dialog().querySelectorAll('li')].map((li) => li.textContent ?? '');
        for (const fact of c.facts) expect(facts.some((text) => fact.test(text)), String(fact)).toBe(true);
      });

      it('cancels on Escape', async () => {
        const { answers } = show(c.plan);
        await fireEvent.keyDown(document.activeElement ?? dialog(), { key: 'Escape' });
        expect(answers).toEqual([false]);
      });

      it('keeps focus inside and never starts on the destructive button', async () => {
        show(c.plan);
        const box = dialog();
        expect(box.contains(document.activeElement)).toBe(true);
        expect(document.activeElement?.hasAttribute('data-destructive')).toBe(false);
        for (let i = 0; i < 6; i++) {
          await fireEvent.keyDown(document.activeElement ?? box, { key: 'Tab', shiftKey: i % 4 === 3 });
          expect(box.contains(document.activeElement)).toBe(true);
        }
      });

      if (c.typed !== undefined) {
        it(`enables "${c.confirm}" only once the name is typed`, async () => {
          const { answers } = show(c.plan);
          const confirm = screen.getByTestId('dialog-confirm') as HTMLButtonElement;
          expect(confirm.textContent).toBe(c.confirm);
          expect(confirm.disabled).toBe(true);
          const input = screen.getByTestId('dialog-type-name');
          expect(document.activeElement).toBe(input);
          await fireEvent.input(input, { target: { value: 'not-it' } });
          expect(confirm.disabled).toBe(true);
          await fireEvent.input(input, { target: { value: c.typed } });
          expect(confirm.disabled).toBe(false);
          await fireEvent.click(confirm);
          expect(answers).toEqual([true]);
        });
      } else {
        it('offers no way to force it, only Close', () => {
          show(c.plan);
          expect(screen.queryByTestId('dialog-confirm')).toBeNull();
          expect(screen.getByTestId('dialog-cancel').textContent).toBe('Close');
        });
      }
    });
  }

  it('asks a plain question, without typing, to leave as a worker', () => {
    const plan = planLeave(status({ role: 'worker', managers: 0, reachableManagers: 0 }), SELF);
    expect(plan.kind).toBe('leave');
    expect(plan.message).toBeUndefined();
    show(plan);
    expect((screen.getByTestId('dialog-confirm') as HTMLButtonElement).disabled).toBe(false);
    expect(document.activeElement).toBe(screen.getByTestId('dialog-cancel'));
  });
});

describe('quorum math before acting', () => {
  it('warns about leaving exactly where the node would refuse', () => {
    expect(planLeave(status(), SELF).kind).toBe('leave');
    expect(planLeave(status({ managers: 2, reachableManagers: 2 }), SELF).kind).toBe('leave-loses-quorum');
    expect(planLeave(status({ managers: 5, reachableManagers: 4 }), SELF).kind).toBe('leave');
    expect(planLeave(status({ managers: 5, reachableManagers: 3 }), SELF).kind).toBe('leave-loses-quorum');
    // The node refuses a manager's plain leave (Docker's LEAVE_MANAGER): the dialog is the confirmation, so it leaves with force.
    expect(planLeave(status(), SELF).proceed).toEqual({ kind: 'leave', force: true });
    expect(planLeave(status({ role: 'worker', managers: 0, reachableManagers: 0 }), SELF).proceed).toEqual({ kind: 'leave', force: false });
  });

  it('lets a demotion through when quorum holds without the node', () => {
    expect(planDemote(status(), NODES, subjectOf(bravo))).toBeUndefined();
    const twoOfThree = status({ reachableManagers: 2, raft: { term: 1, leaderId: IDS.a, commitIndex: 1, appliedIndex: 1, members: [
      { nodeId: IDS.a, hostname: 'alpha', addr: '', role: 'leader', reachable: true, matchIndex: 1, lag: 0, lastContactMs: 0 },
      { nodeId: IDS.b, hostname: 'bravo', addr: '', role: 'follower', reachable: true, matchIndex: 1, lag: 0, lastContactMs: 0 },
      { nodeId: IDS.c, hostname: 'charlie', addr: '', role: 'follower', reachable: false, matchIndex: 1, lag: 0, lastContactMs: 0 },
    ] } });
    expect(planDemote(twoOfThree, NODES, subjectOf(bravo))?.kind).toBe('demote-loses-quorum');
    expect(planDemote(twoOfThree, NODES, subjectOf(NODES[2]!))).toBeUndefined();
  });

  it('removes a down worker with a plain question, and never removes a manager directly', () => {
    expect(planRemove(status(), NODES, node(IDS.w, 'whiskey', { state: 'down' })).kind).toBe('remove');
    expect(planRemove(status(), NODES, node(IDS.b, 'bravo', { role: 'worker', specRole: 'manager' })).kind).toBe('remove-manager');
    expect(planRemove(status({ managers: 1, reachableManagers: 1 }), [NODES[0]!, whiskey], NODES[0]!).kind).toBe('remove-last-manager');
  });

  it("maps the node's refusals to the same dialogs, keeping the node's words", () => {
    const context = { status: status(), nodes: NODES, self: SELF };
    const cases = [
      [skepError('LEAVE_MANAGER'), 'leave', undefined],
      [skepError('LEAVE_LAST_MANAGER'), 'leave-last-manager', undefined],
      [skepError('LEAVE_LOSES_QUORUM', 1, 3), 'leave-loses-quorum', undefined],
      [skepError('DEMOTE_LAST_MANAGER'), 'demote-last-manager', bravo],
      [skepError('DEMOTE_LOSES_QUORUM'), 'demote-loses-quorum', bravo],
      [skepError('REMOVE_NODE_NOT_DOWN', IDS.w), 'remove-not-down', whiskey],
      [skepError('REMOVE_MANAGER', IDS.b), 'remove-manager', bravo],
      [skepError('REMOVE_LAST_MANAGER', IDS.a), 'remove-last-manager', NODES[0]!],
      [skepError('NO_LEADER'), 'quorum-lost', undefined],
      [skepError('SWARM_EXISTS'), 'swarm-exists', undefined],
    ] as const;
    for (const [error, kind, subject] of cases) {
      const plan = planForError(error, { ...context, ...(subject ? { node: subject } : {}) });
      expect(plan?.kind, error.code).toBe(kind);
      expect(plan?.message, error.code).toBe(error.message);
    }
    expect(planForError(skepError('NODE_NOT_FOUND', 'x'), context)).toBeUndefined();
  });
});

// Raft quorum arithmetic, in one place, so the CLI's refusals and notes, the daemon's refusals,
// the window's dialogs and the health banner all count the same way.
//
// The rule, stated once:
// - A quorum is a strict majority of the managers (Raft voters): floor(N/2) + 1.
// - "Can lose k" is how many more managers can fail while the swarm still works: the reachable
//   managers beyond the quorum, reachable − quorum. With every manager reachable that is
//   floor((N−1)/2): 1 and 2 managers can lose none, 3 and 4 can lose 1, 5 can lose 2.
// - An action that changes the manager count (promote, demote, leave, remove, join as a manager)
//   is described by managerCountChange: the counts before and after, and "can lose" before → after.
//   The manager that goes away is counted out of both the managers and the reachable ones.
// - An even manager count gets its own warning: it adds a manager that must answer every write
//   without letting one more fail (4 can lose 1, as 3 can).
// - The health banner's level says what is wrong now (unreachable managers, down nodes), never how
//   many managers there are: 1 and 2 reachable managers are both "Healthy — … can lose none", and
//   the advice says that no manager may fail and what would change that.

/** Votes needed to elect a leader or commit: a strict majority of voters. */
export function quorumSize(managers: number): number {
  return Math.floor(managers / 2) + 1;
}

/** How many managers can fail while the swarm still makes progress. */
export function faultTolerance(managers: number): number {
  return managers === 0 ? 0 : Math.floor((managers - 1) / 2);
}

/** True while the reachable managers can still elect a leader and commit. */
export function hasQuorum(reachableManagers: number, managers: number): boolean {
  return managers > 0 && reachableManagers >= quorumSize(managers);
}

/**
 * Whether a reachable manager leaving would put quorum at risk — Docker's rule
 * (`reachable-2 <= unreachable`), kept so the same situations warn in Skep as in Swarm. It is
 * deliberately conservative: a 2-manager group warns, because a leave that half-completes there
 * leaves nobody able to finish it. The counts shown with the warning come from managerCountChange.
 */
export function removalLosesQuorum(reachableManagers: number, unreachableManagers: number): boolean {
  return reachableManagers - 2 <= unreachableManagers;
}

/** Docker's "last manager" case: leaving erases the swarm's state. */
export function isLastManager(reachableManagers: number, unreachableManagers: number): boolean {
  return reachableManagers === 1 && unreachableManagers === 0;
}

/** The managers (Raft voters) and how many of them answer. */
export interface ManagerCounts {
  readonly managers: number;
  readonly reachable: number;
}

/** How many more managers can fail with the swarm still working; null when the quorum is already lost. */
export function canLose(counts: ManagerCounts): number | null {
  if (counts.managers === 0 || !hasQuorum(counts.reachable, counts.managers)) return null;
  return counts.reachable - quorumSize(counts.managers);
}

/** "can lose 1", "can lose none", or "no quorum": the one way every screen says it. */
export function canLoseText(counts: ManagerCounts): string {
  const spare = canLose(counts);
  if (spare === null) return counts.managers === 0 ? 'no managers' : 'no quorum';
  return `can lose ${spare === 0 ? 'none' : spare}`;
}

function managersText(counts: ManagerCounts): string {
  const noun = counts.managers === 1 ? 'manager' : 'managers';
  return counts.reachable === counts.managers ? `${counts.managers} ${noun}` : `${counts.reachable} of ${counts.managers} ${noun} reachable`;
}

/** "3 managers — can lose 1": the sentence the banner and the CLI use. */
export function faultToleranceSentence(managers: number): string {
  return `${managersText({ managers, reachable: managers })} — ${canLoseText({ managers, reachable: managers })}`;
}

/** A manager joins (promote, join with a manager token) or goes (demote, leave, remove). */
export type ManagerCountStep =
  | { readonly kind: 'add'; readonly reachable: boolean }
  | { readonly kind: 'remove'; readonly reachable: boolean };

export interface ManagerCountChange {
  readonly before: ManagerCounts;
  readonly after: ManagerCounts;
  readonly canLoseBefore: number | null;
  readonly canLoseAfter: number | null;
  /** The managers left after the change can still elect a leader and commit. */
  readonly keepsQuorum: boolean;
  /** It takes away the last manager: the swarm's state goes with it. */
  readonly removesLastManager: boolean;
  /** "3 managers, can lose 1 → 2 managers, can lose none". */
  readonly sentence: string;
  /** One sentence each: an even count, tolerance lost, quorum lost. Empty when nothing is worse. */
  readonly warnings: readonly string[];
}

function describeSide(counts: ManagerCounts): string {
  return counts.managers === 0 ? 'no managers' : `${managersText(counts)}, ${canLoseText(counts)}`;
}

/** Counts before and after one manager comes or goes: the one function behind every quorum message. */
export function managerCountChange(before: ManagerCounts, step: ManagerCountStep): ManagerCountChange {
  const delta = step.kind === 'add' ? 1 : -1;
  const after: ManagerCounts = {
    managers: Math.max(0, before.managers + delta),
    reachable: Math.max(0, before.reachable + (step.reachable ? delta : 0)),
  };
  const canLoseBefore = canLose(before);
  const canLoseAfter = canLose(after);
  const keepsQuorum = after.managers > 0 && hasQuorum(after.reachable, after.managers);
  const removesLastManager = step.kind === 'remove' && after.managers === 0;
  const warnings: string[] = [];
  if (removesLastManager) {
    warnings.push('No manager would be left: the swarm\'s state (its nodes, services, tokens and certificate authority) is lost.');
  } else if (!keepsQuorum) {
    warnings.push(`${after.reachable} of ${after.managers} managers would be reachable — not enough for a quorum of ${quorumSize(after.managers)}: nothing in the swarm could change until more managers are back.`);
  } else {
    if (after.managers % 2 === 0) {
      warnings.push(`An even number of managers adds load without adding fault tolerance: ${after.managers} managers can lose ${faultTolerance(after.managers) === 0 ? 'none' : faultTolerance(after.managers)}, as ${after.managers - 1} can. Use an odd number (3 or 5).`);
    }
    if (canLoseAfter === 0 && (canLoseBefore ?? 0) > 0) {
      warnings.push('Afterwards no manager can fail without stopping the swarm.');
    }
  }
  return { before, after, canLoseBefore, canLoseAfter, keepsQuorum, removesLastManager, sentence: `${describeSide(before)} → ${describeSide(after)}`, warnings };
}

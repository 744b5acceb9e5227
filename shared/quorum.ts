// Raft quorum arithmetic, in one place, so the CLI's refusals and the GUI's warnings agree.

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
 * leaves nobody able to finish it.
 */
export function removalLosesQuorum(reachableManagers: number, unreachableManagers: number): boolean {
  return reachableManagers - 2 <= unreachableManagers;
}

/** Docker's "last manager" case: leaving erases the swarm's state. */
export function isLastManager(reachableManagers: number, unreachableManagers: number): boolean {
  return reachableManagers === 1 && unreachableManagers === 0;
}

/** "3 managers — can lose 1": the sentence the banner and the CLI use. */
export function faultToleranceSentence(managers: number): string {
  const tolerance = faultTolerance(managers);
  const noun = managers === 1 ? 'manager' : 'managers';
  return `${managers} ${noun} — can lose ${tolerance === 0 ? 'none' : tolerance}`;
}

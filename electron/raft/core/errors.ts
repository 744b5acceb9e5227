/** Why the core refused a proposal, transfer or read. Callers retry elsewhere or later; nothing is queued. */
export type DropReason =
  | 'no-leader'
  | 'transferring-leadership'
  | 'conf-change-pending'
  | 'not-leader-yet-committed'
  | 'removed'
  | 'invalid-conf-change';

export class ProposalDroppedError extends Error {
  readonly code = 'RAFT_PROPOSAL_DROPPED';
  constructor(
    readonly reason: DropReason,
    detail?: string,
  ) {
    super(`raft: proposal dropped (${reason})${detail ? `: ${detail}` : ''}; retry on the leader or later`);
    this.name = 'ProposalDroppedError';
  }
}

/** A broken invariant inside the core: continuing would risk committed data. */
export class RaftInvariantError extends Error {
  constructor(message: string) {
    super(`raft invariant: ${message}`);
    this.name = 'RaftInvariantError';
  }
}

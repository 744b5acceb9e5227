// How components write: through a proposer, so their logic is testable on an in-memory store
// without Raft (swarmkit's store sees a proposer interface too).
import type { Command } from './store.js';

export interface Proposer {
  /** Resolves once the command is committed and applied on this manager; rejects with a catalog error. */
  propose(command: Command): Promise<void>;
}

/** Applies at once to a store of its own, as a one-manager Raft group would: for logic tests. */
export class MemoryProposer implements Proposer {
  private index = 0;
  constructor(private readonly store: { apply(command: Command, index: number): { ok: boolean; reason?: string } }) {}

  async propose(command: Command): Promise<void> {
    const result = this.store.apply(command, ++this.index);
    if (!result.ok) throw new Error(result.reason);
  }
}

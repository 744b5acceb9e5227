import type { Entry, NodeId } from '../../electron/raft/types.js';

/** A broken safety property; `invariant` names which one. */
export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

function entryKey(e: Entry): string {
  let h = 0;
  for (const b of e.data) h = (Math.imul(h, 31) + b) | 0;
  return `${e.term}/${e.type}/${e.data.length}/${h}`;
}

/** The view of one node the checker needs. */
export interface NodeView {
  readonly id: NodeId;
  termAt(index: number): number | undefined;
  firstIndex(): number;
  lastIndex(): number;
}

/**
 * The paper's safety properties (Figure 3), checked incrementally as the hosts see
 * Ready after Ready, so every step is checked without rescanning whole logs.
 */
export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>();
  /** Log matching: an (index, term) pair names one entry and one predecessor term, cluster-wide. */
  private readonly byIndexTerm = new Map<string, { key: string; prevTerm: number | undefined }>();
  /**
   * Entries known committed, by index, with the term in which they were first seen committed:
   * the leader records its own commit before any follower can learn of it, so that is the leader's term.
   */
  private readonly committed = new Map<number, { term: number; key: string; commitTerm: number }>();
  private maxCommitted = 0;
  private readonly applied = new Map<number, string>();

  leaderElected(term: number, node: NodeView): void {
    const other = this.leaders.get(term);
    if (other !== undefined && other !== node.id) {
      throw new InvariantViolation('election safety', `${other} and ${node.id} are both leader in term ${term}`);
    }
    this.leaders.set(term, node.id);
    for (let i = Math.max(1, node.firstIndex()); i <= this.maxCommitted; i++) {
      const c = this.committed.get(i);
      // Only later terms must hold it: a slow leader of an older term may be elected after it committed.
      if (!c || c.commitTerm >= term) continue;
      const t = node.termAt(i);
      if (t !== c.term) {
        throw new InvariantViolation(
          'leader completeness',
          `leader ${node.id} of term ${term} has ${t === undefined ? 'no entry' : `term ${t}`} at committed index ${i} (term ${c.term})`,
        );
      }
    }
  }

  entriesWritten(node: NodeView, entries: readonly Entry[]): void {
    for (const e of entries) {
      const id = `${e.index}:${e.term}`;
      const prevTerm = e.index === 1 ? 0 : node.termAt(e.index - 1);
      const seen = this.byIndexTerm.get(id);
      const key = entryKey(e);
      if (!seen) {
        this.byIndexTerm.set(id, { key, prevTerm });
        continue;
      }
      if (seen.key !== key) {
        throw new InvariantViolation('log matching', `${node.id} holds a different entry at index ${e.index} term ${e.term}`);
      }
      if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
        throw new InvariantViolation(
          'log matching',
          `${node.id}: entry ${e.index}/${e.term} follows term ${prevTerm}, elsewhere term ${seen.prevTerm}`,
        );
      }
    }
  }

  /** Node moved its commit index; entries it holds in (from, to] are now committed. */
  committedUpTo(node: NodeView, currentTerm: number, from: number, to: number, entryAt: (i: number) => Entry | undefined): void {
    for (let i = from + 1; i <= to; i++) {
      const e = entryAt(i);
      if (!e) continue;
      const key = entryKey(e);
      const c = this.committed.get(i);
      if (c && c.key !== key) {
        throw new InvariantViolation('state machine safety', `${node.id} commits term ${e.term} at index ${i}, term ${c.term} committed before`);
      }
      if (!c) this.committed.set(i, { term: e.term, key, commitTerm: currentTerm });
      this.maxCommitted = Math.max(this.maxCommitted, i);
    }
  }

  entryApplied(nodeId: NodeId, e: Entry): void {
    const key = entryKey(e);
    const seen = this.applied.get(e.index);
    if (seen !== undefined && seen !== key) {
      throw new InvariantViolation('state machine safety', `${nodeId} applies a different entry at index ${e.index}`);
    }
    this.applied.set(e.index, key);
    const c = this.committed.get(e.index);
    if (c && c.key !== key) throw new InvariantViolation('state machine safety', `${nodeId} applies an uncommitted entry at ${e.index}`);
  }

  /**
   * Only the leader of a term creates entries of that term and it never removes them
   * (Leader Append-Only), so a node in term T never loses an entry of term T.
   */
  entriesTruncated(nodeId: NodeId, currentTerm: number, lost: readonly Entry[]): void {
    const own = lost.find((e) => e.term === currentTerm);
    if (own) {
      throw new InvariantViolation('leader append-only', `${nodeId} in term ${currentTerm} dropped entry ${own.index} of that term`);
    }
  }

  monotonic(what: string, nodeId: NodeId, before: number, after: number): void {
    if (after < before) throw new InvariantViolation('monotonic indexes', `${what} of ${nodeId} went back from ${before} to ${after}`);
  }
}

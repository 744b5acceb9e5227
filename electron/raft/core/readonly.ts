import type { NodeId } from '../types.js';

export interface PendingRead {
  readonly index: number;
  readonly context: Uint8Array;
  /** Who asked: the leader itself or a follower that forwarded the request. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * ReadIndex requests waiting for a heartbeat round to confirm the leader still leads
 * (§6.4 of the dissertation): the commit index at request time is safe to read at once
 * a majority acknowledges a heartbeat sent after it.
 */
export class ReadOnlyQueue {
  private queue: PendingRead[] = [];

  add(read: PendingRead): void {
    this.queue.push(read);
  }

  /** Record an ack; returns the reads now confirmed (this one and all before it), in order. */
  ack(ctx: Uint8Array, from: NodeId, confirmed: (acks: Set<NodeId>) => boolean): PendingRead[] {
    const key = contextKey(ctx);
    const at = this.queue.findIndex((r) => contextKey(r.context) === key);
    const read = this.queue[at];
    if (!read) return [];
    read.acks.add(from);
    if (!confirmed(read.acks)) return [];
    return this.queue.splice(0, at + 1);
  }

  get length(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue = [];
  }
}

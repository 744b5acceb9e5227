import type { Message } from '../../electron/raft/core/index.js';
import type { NodeId } from '../../electron/raft/types.js';

interface InFlight {
  readonly m: Message;
  readonly deliverAt: number;
  readonly seq: number;
}

/** A lossy, duplicating, reordering network with directed link cuts. */
export class SimNetwork {
  private queue: InFlight[] = [];
  private seq = 0;
  private readonly blocked = new Map<string, number>();

  send(m: Message, deliverAt: number): void {
    this.queue.push({ m, deliverAt, seq: this.seq++ });
  }

  /** Cut from→to until `until` (exclusive). */
  block(from: NodeId, to: NodeId, until: number): void {
    const key = `${from}>${to}`;
    this.blocked.set(key, Math.max(this.blocked.get(key) ?? 0, until));
  }

  isBlocked(from: NodeId, to: NodeId, now: number): boolean {
    const until = this.blocked.get(`${from}>${to}`);
    return until !== undefined && until > now;
  }

  healAll(): void {
    this.blocked.clear();
  }

  hasCuts(now: number): boolean {
    for (const until of this.blocked.values()) if (until > now) return true;
    return false;
  }

  /** Messages due now whose receiver can take them; held ones (asleep receiver) stay queued. */
  takeDue(now: number, canReceive: (to: NodeId) => 'yes' | 'hold' | 'drop'): Message[] {
    const due: InFlight[] = [];
    const keep: InFlight[] = [];
    for (const f of this.queue) {
      if (f.deliverAt > now) {
        keep.push(f);
        continue;
      }
      const verdict = canReceive(f.m.to);
      if (verdict === 'yes') due.push(f);
      else if (verdict === 'hold') keep.push(f);
    }
    this.queue = keep;
    due.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq);
    return due.map((f) => f.m);
  }

  /** A crash loses what was on the wire to the crashed node. */
  dropTo(to: NodeId): void {
    this.queue = this.queue.filter((f) => f.m.to !== to);
  }

  get size(): number {
    return this.queue.length;
  }
}

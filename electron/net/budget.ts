// Connection slots with a fixed capacity where the newest arrival wins: admitting into a full
// budget evicts the oldest member. An idle flood then only ever displaces itself; it can never
// keep a later, real peer out.

export class OldestFirstBudget<T> {
  /** Insertion-ordered: the first entry is the oldest. */
  private readonly members = new Set<T>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a budget needs at least one slot, not ${capacity}`);
  }

  get size(): number {
    return this.members.size;
  }

  has(member: T): boolean {
    return this.members.has(member);
  }

  /** Takes a slot for `member`; returns the members evicted to make room (oldest first). */
  admit(member: T): T[] {
    const evicted: T[] = [];
    for (const oldest of this.members) {
      if (this.members.size < this.capacity) break;
      this.members.delete(oldest);
      evicted.push(oldest);
    }
    this.members.add(member);
    return evicted;
  }

  release(member: T): void {
    this.members.delete(member);
  }

  values(): IterableIterator<T> {
    return this.members.values();
  }
}

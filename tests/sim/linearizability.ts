// A Wing–Gong/Lowe linearizability checker with memoization, partitioned per key (as Porcupine).

export interface HistoryOp {
  readonly id: number;
  readonly key: string;
  readonly kind: 'put' | 'append' | 'get';
  readonly value: string;
  /** For get: the value read. */
  readonly output: string | null;
  readonly call: number;
  /** Infinity when the outcome is unknown (timed out, crashed): it may or may not have taken effect. */
  readonly ret: number;
}

export type CheckResult = 'ok' | 'illegal' | 'undecided';

export interface HistoryCheck {
  readonly result: CheckResult;
  readonly badKey?: string;
  readonly steps: number;
}

function stepModel(state: string, op: HistoryOp): string | null {
  switch (op.kind) {
    case 'put':
      return op.value;
    case 'append':
      return state + op.value;
    case 'get':
      return op.output === state ? state : null;
  }
}

interface Node {
  op: HistoryOp;
  index: number;
  isCall: boolean;
  match: Node | null;
  prev: Node | null;
  next: Node | null;
}

function lift(call: Node): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Node): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

function checkKey(ops: readonly HistoryOp[], budget: number): { result: CheckResult; steps: number } {
  const events: { time: number; isCall: boolean; op: HistoryOp; index: number }[] = [];
  ops.forEach((op, index) => {
    events.push({ time: op.call, isCall: true, op, index });
    events.push({ time: op.ret, isCall: false, op, index });
  });
  // At equal times returns go first: an op that returned at t precedes one called at t.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? 1 : -1));
  const head: Node = { op: ops[0]!, index: -1, isCall: false, match: null, prev: null, next: null };
  let tail = head;
  const calls = new Map<number, Node>();
  for (const e of events) {
    const n: Node = { op: e.op, index: e.index, isCall: e.isCall, match: null, prev: tail, next: null };
    tail.next = n;
    tail = n;
    if (e.isCall) calls.set(e.index, n);
    else {
      const c = calls.get(e.index)!;
      c.match = n;
    }
  }
  let linearized = 0n;
  let state = '';
  const cache = new Set<string>();
  const stack: { node: Node; state: string }[] = [];
  let entry = head.next;
  let steps = 0;
  // Ops that never returned may be linearized last, so the search ends once every completed op is placed.
  let completedLeft = ops.filter((o) => o.ret !== Infinity).length;
  while (head.next !== null && completedLeft > 0) {
    if (++steps > budget) return { result: 'undecided', steps };
    if (entry === null) return { result: 'illegal', steps };
    if (entry.isCall) {
      const next = stepModel(state, entry.op);
      const bit = 1n << BigInt(entry.index);
      const key = `${(linearized | bit).toString(36)}|${next}`;
      if (next !== null && !cache.has(key)) {
        cache.add(key);
        stack.push({ node: entry, state });
        state = next;
        linearized |= bit;
        if (entry.op.ret !== Infinity) completedLeft--;
        lift(entry);
        entry = head.next;
      } else entry = entry.next;
    } else {
      const top = stack.pop();
      if (!top) return { result: 'illegal', steps };
      state = top.state;
      linearized &= ~(1n << BigInt(top.node.index));
      if (top.node.op.ret !== Infinity) completedLeft++;
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return { result: 'ok', steps };
}

/**
 * Drop writes that never returned and that no read observed. Sound for this model with
 * unique written values: such a write can always be linearized last (its return is
 * unbounded), where it changes no output. What remains is what the search must explain.
 */
export function pruneUnobservedPending(ops: readonly HistoryOp[]): HistoryOp[] {
  const outputs = ops.filter((o) => o.kind === 'get' && o.output !== null).map((o) => o.output!);
  return ops.filter((o) => o.ret !== Infinity || o.kind === 'get' || outputs.some((out) => out.includes(o.value)));
}

/** Checks each key's sub-history; any illegal key makes the whole history illegal. */
export function checkLinearizable(history: readonly HistoryOp[], budgetPerKey = 200_000): HistoryCheck {
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of pruneUnobservedPending(history)) {
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  let undecided = false;
  let steps = 0;
  for (const [key, ops] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
    const r = checkKey(ops, budgetPerKey);
    steps += r.steps;
    if (r.result === 'illegal') return { result: 'illegal', badKey: key, steps };
    if (r.result === 'undecided') undecided = true;
  }
  return { result: undecided ? 'undecided' : 'ok', steps };
}

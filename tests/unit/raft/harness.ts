import {
  type Message,
  type RaftConfig,
  RaftCore,
  type Ready,
  newMessage,
  seededRandom,
} from '../../../electron/raft/core/index.js';
import type { Entry, NodeId } from '../../../electron/raft/types.js';

export function ids(n: number): NodeId[] {
  return Array.from({ length: n }, (_, i) => `n${i + 1}`);
}

export function newCore(id: NodeId, voters: NodeId[], extra: Partial<RaftConfig> = {}): RaftCore {
  return new RaftCore({
    id,
    bootstrap: { voters, learners: [] },
    random: seededRandom(voters.indexOf(id) + 1),
    ...extra,
  });
}

/** Handle every Ready as a host would (nothing durable here); returns what it had to send. */
export function drain(core: RaftCore, applied?: Entry[]): { messages: Message[]; readies: Ready[] } {
  const messages: Message[] = [];
  const readies: Ready[] = [];
  while (core.hasReady()) {
    const rd = core.ready();
    readies.push(rd);
    messages.push(...rd.messages);
    applied?.push(...rd.committedEntries);
    core.advance();
  }
  return { messages, readies };
}

export function msg(fields: Parameters<typeof newMessage>[0]): Message {
  return newMessage(fields);
}

export function data(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function text(e: Entry): string {
  return new TextDecoder().decode(e.data);
}

/** A synchronous network of cores, in the spirit of etcd's raft_test.go `network`. */
export class TestNet {
  readonly cores = new Map<NodeId, RaftCore>();
  readonly applied = new Map<NodeId, Entry[]>();
  /** Directed links that drop everything. */
  readonly cut = new Set<string>();
  /** Optional filter: return false to drop a message. */
  filter: ((m: Message) => boolean) | null = null;
  readonly delivered: Message[] = [];

  constructor(
    nodeIds: NodeId[],
    extra: Partial<RaftConfig> | ((id: NodeId) => Partial<RaftConfig>) = {},
  ) {
    for (const id of nodeIds) {
      const cfg = typeof extra === 'function' ? extra(id) : extra;
      this.cores.set(id, newCore(id, nodeIds, cfg));
      this.applied.set(id, []);
    }
  }

  core(id: NodeId): RaftCore {
    const c = this.cores.get(id);
    if (!c) throw new Error(`no node ${id}`);
    return c;
  }

  add(id: NodeId, core: RaftCore): void {
    this.cores.set(id, core);
    this.applied.set(id, []);
  }

  isolate(id: NodeId): void {
    for (const other of this.cores.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
    this.filter = null;
  }

  /** Deliver messages until the network is quiet; returns the number of delivery rounds. */
  settle(maxRounds = 1000): number {
    let rounds = 0;
    for (;;) {
      const outgoing: Message[] = [];
      for (const [id, core] of this.cores) outgoing.push(...drain(core, this.applied.get(id)).messages);
      if (outgoing.length === 0) return rounds;
      if (++rounds > maxRounds) throw new Error('network did not settle');
      for (const m of outgoing) this.deliver(m);
    }
  }

  deliver(m: Message): void {
    if (this.cut.has(`${m.from}>${m.to}`)) return;
    if (this.filter && !this.filter(m)) return;
    const to = this.cores.get(m.to);
    if (!to) return;
    this.delivered.push(m);
    to.step(m);
  }

  /** Tick every node n times, settling after each tick. */
  tick(n: number, only?: NodeId[]): void {
    for (let i = 0; i < n; i++) {
      for (const [id, core] of this.cores) if (!only || only.includes(id)) core.tick();
      this.settle();
    }
  }

  campaign(id: NodeId): void {
    this.core(id).campaign();
    this.settle();
  }

  leader(): NodeId | null {
    let best: NodeId | null = null;
    let term = -1;
    for (const [id, c] of this.cores) {
      const st = c.status();
      if (st.role === 'leader' && st.term > term) {
        best = id;
        term = st.term;
      }
    }
    return best;
  }
}

/**
 * A core whose durable state says: membership `voters` as of index 1 (a snapshot),
 * then entries of the given terms at indexes 2, 3, …; current term `term`.
 */
export function coreWithLog(
  id: NodeId,
  voters: NodeId[],
  terms: number[],
  term: number,
  extra: Partial<RaftConfig> = {},
): RaftCore {
  const entries: Entry[] = terms.map((t, i) => ({ term: t, index: i + 2, type: 'normal', data: data(`e${i + 2}@${t}`) }));
  return new RaftCore({
    id,
    random: seededRandom(voters.indexOf(id) + 1),
    restore: {
      hardState: { term, vote: null, commit: 1 },
      snapshot: { metadata: { index: 1, term: 1, confState: { voters, learners: [] } }, data: new Uint8Array() },
      entries,
    },
    applied: 1,
    ...extra,
  });
}

/** Terms of entries firstIndex..lastIndex. */
export function logTerms(core: RaftCore): number[] {
  const st = core.status();
  const out: number[] = [];
  for (let i = st.firstIndex; i <= st.lastIndex; i++) out.push(core.termAt(i) ?? -1);
  return out;
}

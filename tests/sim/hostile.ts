import { type Message, type RaftCore, encodeConfChange, seededRandom } from '../../electron/raft/core/index.js';
import type { Entry, NodeId } from '../../electron/raft/types.js';
import { encodeCommand } from './kv.js';

/** IDs the hostile peer speaks as: never members of any configuration (a worker, say). */
export const HOSTILE_IDS: readonly NodeId[] = ['x1', 'x2'];

/** What the simulation's ingress bounds allow; the hostile peer sends more. */
export const SIM_MAX_INCOMING_ENTRIES = 1000;

export interface HostileMessage {
  /** What kind of attack, for the trace and the summary. */
  readonly kind: string;
  /** Anything at all: the door must judge it as it would bytes off the wire. */
  readonly message: unknown;
}

type Fields = Record<string, unknown>;

/**
 * A peer that injects random and crafted messages into a run, each one either from a non-member
 * or impossible for a correct member to send to its target in the target's present state: high
 * terms, fake appends and snapshots, commits past the log, proposals, votes, answers to questions
 * never asked, and every field of a message broken in turn. It draws from its own PRNG, so a run
 * with it makes exactly the same choices as a run without it — every message it sends must be
 * dropped without any effect but a counter.
 */
export class HostilePeer {
  private readonly rand: () => number;

  constructor(seed: number) {
    this.rand = seededRandom(seed * 104_729 + 11);
  }

  chance(p: number): boolean {
    return this.rand() < p;
  }

  pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[Math.floor(this.rand() * xs.length)];
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  private bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.rand() * 256);
    return b;
  }

  /**
   * One message for `target`, whose id is `targetId`. `strangersMayLead`: the target's host vouches for nobody,
   * so a target outside its own configuration (joining) takes a stranger's leader messages by design; spare it those.
   */
  craft(targetId: NodeId, target: RaftCore, strangersMayLead: boolean): HostileMessage {
    return this.chance(0.45) ? this.fromStranger(targetId, target, strangersMayLead) : this.fromMember(targetId, target);
  }

  private base(type: string, from: NodeId, to: NodeId, term: number, extra: Fields = {}): Fields {
    return { type, from, to, term, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...extra };
  }

  private fakeEntries(after: number, term: number, n: number): Entry[] {
    return Array.from({ length: n }, (_, i) => ({
      index: after + 1 + i,
      term,
      type: 'normal' as const,
      data: encodeCommand({ opId: 1_000_000 + i, kind: 'put', key: 'x', value: '<forged>' }),
    }));
  }

  /** Well-formed messages a leader or candidate would send, from an ID that is no member. */
  private fromStranger(to: NodeId, target: RaftCore, strangersMayLead: boolean): HostileMessage {
    const st = target.status();
    const joining = !st.confState.voters.includes(to) && !st.confState.learners.includes(to);
    const from = this.pick(HOSTILE_IDS)!;
    const high = st.term + (this.chance(0.5) ? 0 : this.int(1, 1000));
    const last = st.lastIndex;
    const lastTerm = target.termAt(last) ?? 0;
    const kinds = ['vote', 'preVote', 'prop', 'propConf', 'timeoutNow', 'appResp', 'voteResp', 'readIndex', 'transfer'];
    if (!(strangersMayLead && joining)) kinds.push('heartbeat', 'app', 'snap');
    const kind = this.pick(kinds)!;
    const m = ((): Fields => {
      switch (kind) {
        case 'heartbeat':
          return this.base('heartbeat', from, to, high, { commit: this.int(0, last + 5) });
        case 'app':
          return this.base('app', from, to, high, {
            index: last,
            logTerm: lastTerm,
            entries: this.fakeEntries(last, high, this.int(1, 3)),
            commit: last + 3,
          });
        case 'vote':
        case 'preVote':
          return this.base(kind, from, to, high + 1, { index: last + 100, logTerm: high, transfer: this.chance(0.5) });
        case 'prop':
          return this.base('prop', from, to, 0, { entries: [{ index: 0, term: 0, type: 'normal', data: this.fakeEntries(0, 0, 1)[0]!.data }] });
        case 'propConf': {
          // A worker asking to be made a member: the forwarded proposal that once promoted one.
          const data = encodeConfChange({ type: this.chance(0.5) ? 'addLearner' : 'promote', nodeId: from });
          return this.base('prop', from, to, 0, { entries: [{ index: 0, term: 0, type: 'confChange', data }] });
        }
        case 'timeoutNow':
          return this.base('timeoutNow', from, to, st.term);
        case 'snap':
          return this.base('snap', from, to, high, {
            snapshot: {
              metadata: { index: last + 50, term: high, confState: { voters: [from], learners: [] } },
              offset: 0,
              totalBytes: 8,
              data: this.bytes(8),
            },
          });
        case 'appResp':
          return this.base('appResp', from, to, high, { index: last });
        case 'voteResp':
          return this.base('voteResp', from, to, st.term);
        case 'readIndex':
          return this.base('readIndex', from, to, 0, { context: this.bytes(4) });
        default:
          return this.base('transferLeader', from, to, 0, { transferee: from });
      }
    })();
    return { kind: `stranger ${kind}`, message: m };
  }

  /**
   * As a member (the daemon lets a node speak only for itself, so this stands for a member with a bug):
   * messages that no correct member could send to this target now, or that are broken in one field.
   */
  private fromMember(to: NodeId, target: RaftCore): HostileMessage {
    const st = target.status();
    const members = [...st.confState.voters, ...st.confState.learners].filter((id) => id !== to);
    const from = this.pick(members);
    if (from === undefined) return { kind: 'garbage', message: this.garbage() };
    const last = st.lastIndex;
    const lastTerm = target.termAt(last) ?? 0;
    const options: (() => HostileMessage)[] = [
      () => ({
        kind: 'commit past the log',
        message: this.base('heartbeat', from, to, st.term + this.int(0, 2), { commit: last + this.int(1, 50) }),
      }),
      () => ({ kind: 'ack past the log', message: this.base('appResp', from, to, st.term, { index: last + this.int(1, 50) }) }),
      () => ({ kind: 'vote granted for a term never campaigned', message: this.base('voteResp', from, to, st.term + this.int(1, 5)) }),
      () => ({ kind: 'pre-vote granted for a term never asked', message: this.base('preVoteResp', from, to, st.term + this.int(2, 5)) }),
      () => ({ kind: 'broken field', message: this.broken(from, to, st.term, last, lastTerm) }),
      () => ({ kind: 'garbage', message: this.garbage() }),
    ];
    const notLeader = st.leader !== from;
    if (notLeader || this.chance(0.5)) {
      options.push(() => ({
        kind: 'timeoutNow not from the leader of this term',
        message: this.base('timeoutNow', from, to, notLeader ? st.term : st.term + this.int(1, 3)),
      }));
      options.push(() => ({
        kind: 'readIndexResp not from the leader',
        message: this.base('readIndexResp', from, to, notLeader ? st.term : st.term + 1, { index: last, context: this.bytes(3) }),
      }));
    }
    if (st.role === 'leader' || (st.leader !== null && notLeader)) {
      // Election safety: nobody else leads the target's term.
      options.push(() => ({
        kind: 'second leader in the term',
        message: this.base('app', from, to, st.term, { index: last, logTerm: lastTerm, entries: this.fakeEntries(last, st.term, 1), commit: last + 1 }),
      }));
      options.push(() => ({ kind: 'second leader heartbeat', message: this.base('heartbeat', from, to, st.term, { commit: st.commit }) }));
    }
    const learner = this.pick(st.confState.learners.filter((l) => l !== to));
    if (learner !== undefined) {
      options.push(() => ({
        kind: 'vote request from a learner',
        message: this.base(this.chance(0.5) ? 'vote' : 'preVote', learner, to, st.term + this.int(1, 10), { index: last + 10, logTerm: st.term }),
      }));
    }
    return this.pick(options)!();
  }

  /** A plausible message from a member with exactly one thing wrong that any receiver can see. */
  private broken(from: NodeId, to: NodeId, term: number, last: number, lastTerm: number): unknown {
    const hb = this.base('heartbeat', from, to, term, { commit: Math.min(1, last) });
    const app = this.base('app', from, to, term, { index: last, logTerm: lastTerm, entries: this.fakeEntries(last, term, 2), commit: 0 });
    const snapshot = {
      metadata: { index: last + 1, term, confState: { voters: [from], learners: [] } },
      offset: 0,
      totalBytes: 4,
      data: this.bytes(4),
    };
    const variants: (() => unknown)[] = [
      () => ({ ...hb, term: -1 }),
      () => ({ ...hb, term: this.int(1, 3) + 0.5 }),
      () => ({ ...hb, commit: String(last) }),
      () => ({ ...hb, commit: Number.MAX_SAFE_INTEGER + 2 }),
      () => ({ ...hb, index: Number.NaN }),
      () => ({ ...hb, reject: 'no' }),
      () => ({ ...hb, type: 'heartbeatz' }),
      () => ({ ...hb, type: this.pick(['hup', 'beat', 'checkQuorum', 'forgetLeader']) }),
      () => ({ ...hb, to: `${to}-other` }),
      () => ({ ...hb, from: '' }),
      () => ({ ...hb, from: 7 }),
      () => ({ ...hb, from: to }),
      () => ({ ...hb, entries: null }),
      () => ({ ...hb, entries: this.fakeEntries(last, term, 1) }),
      () => ({ ...hb, context: [1, 2, 3] }),
      () => ({ ...hb, snapshot }),
      () => ({ ...hb, transfer: 1 }),
      () => {
        const { reject: _, ...rest } = hb;
        return rest;
      },
      () => ({ ...app, entries: [app['entries'] as Entry[]][0]!.map((e, i) => ({ ...e, index: e.index + i * 2 })) }),
      () => ({ ...app, entries: (app['entries'] as Entry[]).map((e) => ({ ...e, term: term + 1 })) }),
      () => ({ ...app, logTerm: term + 1, index: Math.max(1, last) }),
      () => ({ ...app, index: 0, logTerm: 1 }),
      () => ({ ...app, entries: (app['entries'] as Entry[]).map((e) => ({ ...e, data: 'text' })) }),
      () => ({ ...app, entries: (app['entries'] as Entry[]).map((e) => ({ ...e, type: 'noop' })) }),
      () => ({ ...app, entries: (app['entries'] as Entry[]).map((e) => ({ ...e, type: 'confChange', data: this.bytes(5) })) }),
      () => ({ ...app, entries: this.fakeEntries(last, term, SIM_MAX_INCOMING_ENTRIES + 1) }),
      () => this.base('snap', from, to, term),
      () => this.base('snap', from, to, term, { snapshot: { ...snapshot, metadata: { ...snapshot.metadata, confState: { voters: [], learners: [] } } } }),
      () => this.base('snap', from, to, term, { snapshot: { ...snapshot, metadata: { ...snapshot.metadata, term: term + 1 } } }),
      () => this.base('snap', from, to, term, { snapshot: { ...snapshot, offset: 3 } }),
      () => this.base('snap', from, to, term, { snapshot: { ...snapshot, data: 'abcd' } }),
      () => this.base('prop', from, to, 0, { entries: [] }),
      () => this.base('prop', from, to, 1, { entries: [{ index: 0, term: 0, type: 'normal', data: this.bytes(3) }] }),
      () => this.base('prop', from, to, 0, { entries: [{ index: 5, term: 0, type: 'normal', data: this.bytes(3) }] }),
      () => this.base('transferLeader', from, to, 0),
      () => this.base('readIndex', from, to, 0),
      () => this.base('appResp', from, to, term, { index: 1, reject: true, rejectHint: 9 }),
      () => this.base('vote', from, to, term + 1, { index: 3, logTerm: term + 2 }),
      () => this.base('voteResp', from, to, 0),
    ];
    return this.pick(variants)!();
  }

  private garbage(): unknown {
    return this.pick<unknown>([null, undefined, 42, 'heartbeat', [], [1, 2], { type: 'app' }, {}, new Uint8Array(4), { type: 'heartbeat', from: 'x1' }]);
  }
}

/** A one-line description of whatever the hostile peer sent, for the trace. */
export function describeHostile(h: HostileMessage): string {
  const m = h.message;
  if (typeof m !== 'object' || m === null) return `${h.kind}: ${String(m)}`;
  const f = m as Partial<Message> & Fields;
  const type = typeof f.type === 'string' ? f.type : JSON.stringify(f.type);
  return `${h.kind}: ${type} from ${String(f.from)} term=${String(f.term)} index=${String(f.index)} commit=${String(f.commit)}`;
}

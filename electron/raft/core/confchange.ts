import type { ConfState, NodeId } from '../types.js';

/**
 * One membership change. Only single-server changes exist (no joint consensus):
 * a node joins as a learner, catches up, then is promoted; at most one change is
 * uncommitted at a time, which keeps any two consecutive majorities overlapping.
 */
export interface ConfChange {
  readonly type: 'addLearner' | 'promote' | 'removeNode';
  readonly nodeId: NodeId;
  readonly context?: Uint8Array;
}

/** What a confChange entry carries: a change, or the founding membership written at index 1. */
export type ConfChangeEntryData =
  | { readonly kind: 'change'; readonly change: ConfChange }
  | { readonly kind: 'bootstrap'; readonly confState: ConfState };

const KIND_CHANGE = 1;
const KIND_BOOTSTRAP = 2;
const CHANGE_TYPES = ['addLearner', 'promote', 'removeNode'] as const;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

class Writer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  u8(v: number): void {
    this.bytes(Uint8Array.of(v));
  }
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v);
    this.bytes(b);
  }
  bytes(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }
  lengthPrefixed(b: Uint8Array): void {
    this.u32(b.length);
    this.bytes(b);
  }
  str(s: string): void {
    this.lengthPrefixed(utf8Encoder.encode(s));
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Uint8Array) {}
  u8(): number {
    const v = this.buf[this.at];
    if (v === undefined) throw new Error('confchange: truncated');
    this.at += 1;
    return v;
  }
  u32(): number {
    if (this.at + 4 > this.buf.length) throw new Error('confchange: truncated');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.at, 4).getUint32(0);
    this.at += 4;
    return v;
  }
  lengthPrefixed(): Uint8Array {
    const n = this.u32();
    if (this.at + n > this.buf.length) throw new Error('confchange: truncated');
    const b = this.buf.slice(this.at, this.at + n);
    this.at += n;
    return b;
  }
  str(): string {
    return utf8Decoder.decode(this.lengthPrefixed());
  }
  done(): void {
    if (this.at !== this.buf.length) throw new Error('confchange: trailing bytes');
  }
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const w = new Writer();
  w.u8(KIND_CHANGE);
  w.u8(CHANGE_TYPES.indexOf(cc.type));
  w.str(cc.nodeId);
  w.u8(cc.context ? 1 : 0);
  if (cc.context) w.lengthPrefixed(cc.context);
  return w.finish();
}

export function encodeBootstrap(cs: ConfState): Uint8Array {
  const w = new Writer();
  w.u8(KIND_BOOTSTRAP);
  w.u32(cs.voters.length);
  for (const v of cs.voters) w.str(v);
  w.u32(cs.learners.length);
  for (const l of cs.learners) w.str(l);
  return w.finish();
}

export function decodeConfChangeEntry(data: Uint8Array): ConfChangeEntryData {
  const r = new Reader(data);
  const kind = r.u8();
  if (kind === KIND_CHANGE) {
    const type = CHANGE_TYPES[r.u8()];
    if (type === undefined) throw new Error('confchange: unknown change type');
    const nodeId = r.str();
    const hasContext = r.u8() === 1;
    const change: ConfChange = hasContext ? { type, nodeId, context: r.lengthPrefixed() } : { type, nodeId };
    r.done();
    return { kind: 'change', change };
  }
  if (kind === KIND_BOOTSTRAP) {
    const voters: NodeId[] = [];
    for (let n = r.u32(); n > 0; n--) voters.push(r.str());
    const learners: NodeId[] = [];
    for (let n = r.u32(); n > 0; n--) learners.push(r.str());
    r.done();
    return { kind: 'bootstrap', confState: { voters, learners } };
  }
  throw new Error(`confchange: unknown entry kind ${kind}`);
}

/** Why `cc` cannot apply to `cs`, or null when it can. Checked when proposing and again when applying. */
export function confChangeProblem(cs: ConfState, cc: ConfChange): string | null {
  const isVoter = cs.voters.includes(cc.nodeId);
  const isLearner = cs.learners.includes(cc.nodeId);
  switch (cc.type) {
    case 'addLearner':
      return isVoter || isLearner ? `${cc.nodeId} is already a member` : null;
    case 'promote':
      return isLearner ? null : `${cc.nodeId} is not a learner`;
    case 'removeNode':
      if (!isVoter && !isLearner) return `${cc.nodeId} is not a member`;
      return isVoter && cs.voters.length === 1 ? 'cannot remove the last voter' : null;
  }
}

/**
 * The membership after `cc`. An invalid change (possible when two were proposed
 * under different leaders) applies as a no-op on every node alike, so replicas never diverge.
 */
export function applyConfChangeTo(cs: ConfState, cc: ConfChange): ConfState {
  if (confChangeProblem(cs, cc) !== null) return cs;
  switch (cc.type) {
    case 'addLearner':
      return { voters: [...cs.voters], learners: [...cs.learners, cc.nodeId] };
    case 'promote':
      return { voters: [...cs.voters, cc.nodeId], learners: cs.learners.filter((l) => l !== cc.nodeId) };
    case 'removeNode':
      return {
        voters: cs.voters.filter((v) => v !== cc.nodeId),
        learners: cs.learners.filter((l) => l !== cc.nodeId),
      };
  }
}

// The shape half of the core's door: is a message that came from another node well-formed?
// Remote messages arrive as decoded JSON (plus byte arrays) from a peer the core cannot vouch for,
// so nothing in them is trusted until this says so. What a well-formed message may still get wrong
// given this node's state (a commit past its log, a second leader) is judged in RaftCore.step.
import { decodeConfChangeEntry } from './confchange.js';

/** Why the core dropped a message from another node (counted in RaftStatus.droppedMessages). */
export type IngressDropReason =
  /** Not an object, a field of the wrong type, a negative or unsafe number, entries out of sequence, … */
  | 'malformed'
  /** More entries or bytes than `IngressBounds` allow. */
  | 'oversized'
  /** A timer or control type (hup, beat, …) that only this node may step. */
  | 'local-type'
  /** `from` is this node's own ID: never true of a message from the network. */
  | 'from-self'
  /** Addressed to another node. */
  | 'wrong-recipient'
  /** The sender is not a voter or learner of this node's configuration, and nothing vouches for it. */
  | 'non-member'
  /** The sender was removed from the configuration. */
  | 'removed-member'
  /** A (pre-)vote request from a learner. */
  | 'vote-from-non-voter'
  /** A heartbeat that commits past this node's last index: no leader can know of entries we don't hold. */
  | 'commit-past-log'
  /** An append, heartbeat or snapshot for our term from a node other than our term's leader. */
  | 'second-leader'
  /** An acknowledgement or rejection of an index past our log: we never sent it. */
  | 'ack-past-log'
  /** A response to a request this node never made (a vote granted for a term it never campaigned in, …). */
  | 'unsolicited-response'
  /** Snapshot metadata that cannot be (no voters, a term after the sender's, bytes past the total). */
  | 'bad-snapshot';

/** Size limits on one message from another node. */
export interface IngressBounds {
  readonly maxEntries: number;
  /** Entry data, context and snapshot chunk bytes together. */
  readonly maxBytes: number;
  /** The whole snapshot a chunk belongs to. */
  readonly maxSnapshotBytes: number;
}

export const DEFAULT_INGRESS_BOUNDS: IngressBounds = Object.freeze({
  maxEntries: 65_536,
  maxBytes: 64 * 1024 * 1024,
  maxSnapshotBytes: 1024 * 1024 * 1024,
});

/** Node IDs, conf state sizes and ReadIndex contexts stay far below these. */
export const MAX_NODE_ID_LENGTH = 256;
export const MAX_CONF_MEMBERS = 4096;
export const MAX_CONTEXT_BYTES = 4096;

const REMOTE_TYPES = new Set([
  'app',
  'appResp',
  'vote',
  'voteResp',
  'preVote',
  'preVoteResp',
  'heartbeat',
  'heartbeatResp',
  'snap',
  'snapResp',
  'timeoutNow',
  'readIndexResp',
]);
const FORWARDED_TYPES = new Set(['prop', 'readIndex', 'transferLeader']);
const LOCAL_TYPES = new Set(['hup', 'beat', 'checkQuorum', 'forgetLeader']);
const NUMBER_FIELDS = ['term', 'logTerm', 'index', 'commit', 'rejectHint'] as const;

type Fields = Record<string, unknown>;

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isNodeId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NODE_ID_LENGTH;
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function isNodeIdList(v: unknown): v is string[] {
  return Array.isArray(v) && v.length <= MAX_CONF_MEMBERS && v.every(isNodeId) && new Set(v).size === v.length;
}

/** True when the entry's data would be refused when applied: only changes may be proposed or replicated after index 1. */
function badConfChange(data: Uint8Array, index: number): boolean {
  try {
    const decoded = decodeConfChangeEntry(data);
    return decoded.kind === 'bootstrap' ? index !== 1 : false;
  } catch {
    return true;
  }
}

/**
 * Entries of an append follow its (index, logTerm) without gaps, with terms that never go down and
 * never exceed the sender's term. Forwarded proposals carry unnumbered entries (index and term 0).
 */
function entriesProblem(m: Fields, type: string, bounds: IngressBounds): IngressDropReason | null {
  const entries = m['entries'];
  if (!Array.isArray(entries)) return 'malformed';
  if (entries.length === 0) return type === 'prop' ? 'malformed' : null;
  if (entries.length > bounds.maxEntries) return 'oversized';
  if (entries.length > 0 && type !== 'app' && type !== 'prop') return 'malformed';
  if (type === 'prop' && entries.length === 0) return 'malformed';
  const term = m['term'] as number;
  let prevTerm = m['logTerm'] as number;
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const e: unknown = entries[i];
    if (typeof e !== 'object' || e === null) return 'malformed';
    const f = e as Fields;
    const data = f['data'];
    if (!isIndex(f['index']) || !isIndex(f['term']) || !isBytes(data)) return 'malformed';
    if (f['type'] !== 'normal' && f['type'] !== 'confChange') return 'malformed';
    bytes += data.byteLength;
    if (bytes > bounds.maxBytes) return 'oversized';
    if (type === 'prop') {
      if (f['index'] !== 0 || f['term'] !== 0) return 'malformed';
    } else {
      if (f['index'] !== (m['index'] as number) + 1 + i) return 'malformed';
      if (f['term'] < prevTerm || f['term'] > term) return 'malformed';
      prevTerm = f['term'];
    }
    if (f['type'] === 'confChange' && badConfChange(data, type === 'prop' ? 0 : f['index'])) return 'malformed';
  }
  return null;
}

function snapshotProblem(m: Fields, bounds: IngressBounds): IngressDropReason | null {
  const chunk = m['snapshot'];
  if (typeof chunk !== 'object' || chunk === null) return 'malformed';
  const c = chunk as Fields;
  const meta = c['metadata'];
  if (typeof meta !== 'object' || meta === null) return 'malformed';
  const md = meta as Fields;
  const cs = md['confState'];
  if (typeof cs !== 'object' || cs === null) return 'malformed';
  const voters = (cs as Fields)['voters'];
  const learners = (cs as Fields)['learners'];
  const data = c['data'];
  if (!isIndex(md['index']) || !isIndex(md['term']) || !isIndex(c['offset']) || !isIndex(c['totalBytes']) || !isBytes(data)) {
    return 'malformed';
  }
  if (!isNodeIdList(voters) || !isNodeIdList(learners)) return 'malformed';
  if (data.byteLength > bounds.maxBytes) return 'oversized';
  if (c['totalBytes'] > bounds.maxSnapshotBytes) return 'oversized';
  if (md['index'] < 1 || md['term'] < 1 || md['term'] > (m['term'] as number)) return 'bad-snapshot';
  if (voters.length === 0 || learners.some((l) => voters.includes(l))) return 'bad-snapshot';
  if (c['offset'] + data.byteLength > c['totalBytes']) return 'bad-snapshot';
  return null;
}

/**
 * Whether `input` is a well-formed message for any node: known type, every field of its type and in range,
 * entries in sequence, sizes within `bounds`. Null when it is; else why not. Never throws.
 */
export function wellFormedProblem(input: unknown, bounds: IngressBounds): IngressDropReason | null {
  if (typeof input !== 'object' || input === null) return 'malformed';
  const m = input as Fields;
  const type = m['type'];
  if (typeof type !== 'string') return 'malformed';
  if (LOCAL_TYPES.has(type)) return 'local-type';
  const forwarded = FORWARDED_TYPES.has(type);
  if (!forwarded && !REMOTE_TYPES.has(type)) return 'malformed';
  if (!isNodeId(m['from']) || !isNodeId(m['to'])) return 'malformed';
  for (const k of NUMBER_FIELDS) if (!isIndex(m[k])) return 'malformed';
  if (typeof m['reject'] !== 'boolean') return 'malformed';
  if (m['transfer'] !== undefined && typeof m['transfer'] !== 'boolean') return 'malformed';
  const context = m['context'];
  if (context !== undefined) {
    if (!isBytes(context)) return 'malformed';
    if (context.byteLength > MAX_CONTEXT_BYTES) return 'oversized';
  }
  if (m['snapshot'] !== undefined && type !== 'snap') return 'malformed';
  if (m['transferee'] !== undefined && type !== 'transferLeader') return 'malformed';

  const term = m['term'] as number;
  // Forwarded requests carry no term (they are the origin's local input); everything else has one.
  if (forwarded ? term !== 0 : term < 1) return 'malformed';
  const index = m['index'] as number;
  const logTerm = m['logTerm'] as number;
  const problem = entriesProblem(m, type, bounds);
  if (problem) return problem;
  switch (type) {
    case 'app':
    case 'vote':
    case 'preVote':
      // (index, logTerm) name an entry of the sender's log: index 0 has term 0, no entry is newer than the sender.
      if ((index === 0) !== (logTerm === 0) || logTerm > term) return 'malformed';
      return null;
    case 'appResp':
      if (m['rejectHint'] as number > index) return 'malformed';
      return null;
    case 'snap':
      return snapshotProblem(m, bounds);
    case 'readIndex':
    case 'readIndexResp':
      return context === undefined ? 'malformed' : null;
    case 'transferLeader':
      return isNodeId(m['transferee']) ? null : 'malformed';
    default:
      return null;
  }
}

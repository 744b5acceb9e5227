import type { Entry, NodeId, SnapshotMetadata } from '../types.js';

/**
 * Every input to the core is a Message handed to `RaftCore.step`.
 * Local types never cross the network: the public methods step them so that one
 * function decides what each role does with every input (as etcd's MsgHup/MsgProp).
 */
export type LocalMessageType = 'hup' | 'beat' | 'checkQuorum' | 'forgetLeader';

/** Types that may be stepped locally and also forwarded from a follower to the leader. */
export type ForwardableMessageType = 'prop' | 'transferLeader' | 'readIndex';

export type RemoteMessageType =
  | 'app'
  | 'appResp'
  | 'vote'
  | 'voteResp'
  | 'preVote'
  | 'preVoteResp'
  | 'heartbeat'
  | 'heartbeatResp'
  | 'snap'
  | 'snapResp'
  | 'timeoutNow'
  | 'readIndexResp';

export type MessageType = LocalMessageType | ForwardableMessageType | RemoteMessageType;

/** One chunk of a snapshot; large snapshots are sent as several messages of bounded size. */
export interface SnapshotChunk {
  readonly metadata: SnapshotMetadata;
  /** Byte offset of `data` in the whole snapshot data. */
  readonly offset: number;
  readonly totalBytes: number;
  readonly data: Uint8Array;
}

/**
 * A flat message like etcd's raftpb.Message: field meaning depends on `type`.
 * - app: index/logTerm = the entry preceding `entries`; commit = leader's commit.
 * - appResp: index = last index now matching (or the rejected index); on reject,
 *   rejectHint/logTerm point at where the follower's log may match (fast backtracking).
 * - vote/preVote: index/logTerm = candidate's last entry; `transfer` bypasses the leader lease.
 * - heartbeat(Resp), readIndex(Resp): `context` carries a ReadIndex request's ctx.
 * - snap: one chunk; snapResp: index = snapshot index, rejectHint = bytes received so far.
 * - transferLeader: `transferee` names the node to hand leadership to.
 * term 0 means a local message (never sent over the network).
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly transfer?: boolean;
  /** transferLeader: the node that should become leader (`from` is the node that asked). */
  readonly transferee?: NodeId;
  readonly context?: Uint8Array;
  readonly snapshot?: SnapshotChunk;
}

export type MessageFields = Partial<Message> & Pick<Message, 'type'>;

export function newMessage(fields: MessageFields): Message {
  return {
    from: '',
    to: '',
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...fields,
  };
}

export function isLocalMessage(type: MessageType): boolean {
  return type === 'hup' || type === 'beat' || type === 'checkQuorum' || type === 'forgetLeader';
}

/** Approximate wire size, used only to bound batches. */
export function entryBytes(e: Entry): number {
  return e.data.length + 24;
}

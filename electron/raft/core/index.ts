export { RaftCore, type RaftStatus, type PeerStatus } from './raft.js';
export type { RaftConfig, RestoredState, UnsafeKnobs } from './config.js';
export { type Ready, type ReadState, type Role, type SoftState, mustSync } from './ready.js';
export { type Message, type MessageType, type SnapshotChunk, newMessage, isLocalMessage } from './messages.js';
export {
  type ConfChange,
  type ConfChangeEntryData,
  encodeConfChange,
  decodeConfChangeEntry,
  applyConfChangeTo,
} from './confchange.js';
export {
  type IngressBounds,
  type IngressDropReason,
  DEFAULT_INGRESS_BOUNDS,
  MAX_CONF_MEMBERS,
  MAX_CONTEXT_BYTES,
  MAX_NODE_ID_LENGTH,
  wellFormedProblem,
} from './ingress.js';
export { ProposalDroppedError, RaftInvariantError, type DropReason } from './errors.js';
export { seededRandom } from './random.js';

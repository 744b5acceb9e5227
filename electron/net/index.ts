// Public entry point of electron/net. Other rooms import from here, not from the files.
export { FrameDecoder, DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES } from './frame.js';
export { OldestFirstBudget } from './budget.js';
export { encodeMessage, decodeMessage, MessageKind, type Message } from './codec.js';
export {
  RpcConnection,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_PAUSE_READING_ABOVE_BYTES,
  DEFAULT_MAX_IN_FLIGHT_REQUESTS,
  type ConnectionOptions,
  type Handlers,
  type HandlerContext,
  type RequestHandler,
  type NotifyHandler,
  type RequestOptions,
} from './connection.js';
export {
  RpcServer,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_HANDSHAKING,
  DEFAULT_MAX_ANONYMOUS,
  DEFAULT_ANONYMOUS_LIFETIME_MS,
  DEFAULT_MAX_ANONYMOUS_FRAME_BYTES,
  DEFAULT_MAX_ANONYMOUS_IN_FLIGHT_REQUESTS,
  DEFAULT_MAX_AUTHENTICATED,
  DEFAULT_MAX_CONNECTIONS_PER_NODE,
  type ConnectionBudgets,
  type MutualServerOptions,
  type BootstrapServerOptions,
  type CombinedServerOptions,
  type ServerStats,
} from './server.js';
export {
  ConnectionPool,
  connectBootstrap,
  DEFAULT_CONNECT_TIMEOUT_MS,
  type PeerRef,
  type DisconnectEvent,
  type PeerPolicy,
  type PoolOptions,
  type BackoffOptions,
  type BootstrapConnectOptions,
  type BootstrapVerification,
} from './client.js';
export {
  NODE_ROLES,
  isNodeId,
  isNodeRole,
  identityFromPeerCertificate,
  nodeIdentityCheck,
  type NodeRole,
  type PeerIdentity,
  type ExpectedPeer,
} from './identity.js';
export { parseAddress, formatAddress, TLS_MIN_VERSION, type TlsCredentials, type ServerOnlyCredentials } from './tls.js';
export { noopLogger, type Logger, type LogFields } from './logger.js';

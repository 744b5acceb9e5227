// Public entry point of electron/protocol: the node-to-node contract and its enforcement.
export * from './methods.js';
export { serveProtocol, type Authorizer, type CallerInfo, type NotifyHandlers, type ProtocolServer, type RefusalCounters, type RequestHandlers } from './server.js';
export { call, send } from './client.js';

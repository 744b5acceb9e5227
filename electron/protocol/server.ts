// One wrapper enforces the table for every method: the caller's certificate and standing in the
// swarm, then the body's schema and bounds — before any handler runs. A refused request gets a
// coded error; a refused notification (Raft traffic) is dropped and counted, never answered.
import { skepError, type SkepError } from '../../shared/errors.js';
import type { Handlers, HandlerContext, Logger, PeerIdentity } from '../net/index.js';
import { METHODS, isMethodName, type BodyOf, type Caller, type MethodName, type NotifyName, type ReplyOf, type RequestName } from './methods.js';

/** Decides whether a verified peer may call methods meant for `callers`. */
export interface Authorizer {
  /** undefined when allowed; otherwise the error to answer with. */
  check(peer: PeerIdentity, callers: Caller): SkepError | undefined;
}

export interface CallerInfo {
  /** The node ID from the peer's certificate: the only identity a handler may use. */
  readonly nodeId: string;
  readonly peer: PeerIdentity;
  readonly context: HandlerContext;
}

export type RequestHandlers = { readonly [K in RequestName]?: (body: BodyOf<K>, caller: CallerInfo) => Promise<ReplyOf<K>> | ReplyOf<K> };
export type NotifyHandlers = { readonly [K in NotifyName]?: (body: BodyOf<K>, caller: CallerInfo) => void };

/** What the wrapper refused, by reason: tests and `skep swarm status` read it. */
export interface RefusalCounters {
  unauthenticated: number;
  forbidden: number;
  malformed: number;
  impersonation: number;
  unknownMethod: number;
}

export interface ProtocolServer {
  readonly handlers: Handlers;
  readonly refused: RefusalCounters;
}

/** Raft messages name their sender; it must be the certificate's node. */
function claimedSender(method: MethodName, body: unknown): string | undefined {
  return method === 'raft.message' ? (body as { from?: string }).from : undefined;
}

export function serveProtocol(options: {
  readonly requests: RequestHandlers;
  readonly notifications: NotifyHandlers;
  readonly authorizer: Authorizer;
  readonly logger: Logger;
}): ProtocolServer {
  const refused: RefusalCounters = { unauthenticated: 0, forbidden: 0, malformed: 0, impersonation: 0, unknownMethod: 0 };
  const { authorizer, logger } = options;

  /** Returns the checked body, or throws the refusal. */
  function admit(method: string, body: unknown, ctx: HandlerContext): { name: MethodName; body: unknown; caller: CallerInfo } {
    if (!isMethodName(method)) {
      refused.unknownMethod++;
      throw skepError('UNKNOWN_METHOD', method);
    }
    const spec = METHODS[method];
    const peer = ctx.peer;
    if (peer === null) {
      refused.unauthenticated++;
      throw skepError('PERMISSION_DENIED', method, 'a node certificate is required');
    }
    const denied = authorizer.check(peer, spec.callers);
    if (denied) {
      refused.forbidden++;
      // A removed node gets one answer saying so, then the connection ends.
      if (denied.code === 'NODE_REMOVED') setImmediate(() => ctx.connection.close());
      throw denied;
    }
    const parsed = spec.body.safeParse(body);
    if (!parsed.success) {
      refused.malformed++;
      // The path of the first issue is enough to fix a bug; values are never echoed back.
      const issue = parsed.error.issues[0];
      throw skepError('INVALID_REQUEST', `${method}: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'malformed body'}`);
    }
    const sender = claimedSender(method, parsed.data);
    if (sender !== undefined && sender !== peer.nodeId) {
      refused.impersonation++;
      throw skepError('PERMISSION_DENIED', method, 'a node speaks only for itself');
    }
    return { name: method, body: parsed.data, caller: { nodeId: peer.nodeId, peer, context: ctx } };
  }

  const requests: Record<string, (body: unknown, ctx: HandlerContext) => unknown> = {};
  for (const name of Object.keys(METHODS) as MethodName[]) {
    if (METHODS[name].kind !== 'request') continue;
    requests[name] = async (body, ctx) => {
      const admitted = admit(name, body, ctx);
      const handler = options.requests[name as RequestName] as ((b: unknown, c: CallerInfo) => unknown) | undefined;
      if (!handler) throw skepError('UNKNOWN_METHOD', name);
      return handler(admitted.body, admitted.caller);
    };
  }

  const handlers: Handlers = {
    requests,
    onNotify: (method, body, ctx) => {
      let admitted: ReturnType<typeof admit>;
      try {
        admitted = admit(method, body, ctx);
      } catch (error) {
        logger.debug('protocol: notification refused', { method, peer: ctx.peer?.nodeId ?? ctx.remoteAddress, error: error instanceof Error ? error.message : String(error) });
        return;
      }
      if (METHODS[admitted.name].kind !== 'notify') return;
      const handler = options.notifications[admitted.name as NotifyName] as ((b: unknown, c: CallerInfo) => void) | undefined;
      handler?.(admitted.body, admitted.caller);
    },
  };
  return { handlers, refused };
}

// The calling side of the table: typed requests whose replies are checked against the same
// schemas the server answers with, so a peer can't hand us a shape our code doesn't expect.
import { skepError } from '../../shared/errors.js';
import type { ConnectionPool, PeerRef, RequestOptions } from '../net/index.js';
import { METHODS, type BodyOf, type NotifyName, type ReplyOf, type RequestName } from './methods.js';

export async function call<M extends RequestName>(pool: ConnectionPool, peer: PeerRef, method: M, body: BodyOf<M>, options?: RequestOptions): Promise<ReplyOf<M>> {
  const reply = await pool.request(peer, method, body, options);
  const schema = METHODS[method].reply;
  const parsed = schema.safeParse(reply);
  if (!parsed.success) throw skepError('PROTOCOL_ERROR', `malformed reply to ${method} from ${peer.address}`);
  return parsed.data as ReplyOf<M>;
}

export function send<M extends NotifyName>(pool: ConnectionPool, peer: PeerRef, method: M, body: BodyOf<M>): boolean {
  return pool.notify(peer, method, body);
}

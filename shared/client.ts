// Builds a SkepClient over any transport that can make a call and deliver events.
import { METHOD_NAMES, type EventListener, type MethodName, type Reply, type SkepClient } from './api.js';
import { SkepError } from './errors.js';

export interface ClientTransport {
  call(method: MethodName, params: readonly unknown[]): Promise<Reply>;
  onEvent(listener: EventListener): () => void;
}

export function createClient(transport: ClientTransport): SkepClient {
  const client: Record<string, unknown> = {
    onEvent: (listener: EventListener) => transport.onEvent(listener),
  };
  for (const method of METHOD_NAMES) {
    client[method] = async (...params: unknown[]) => {
      const reply = await transport.call(method, params);
      if (!reply.ok) throw SkepError.fromEnvelope(reply.error);
      return reply.result;
    };
  }
  return client as unknown as SkepClient;
}

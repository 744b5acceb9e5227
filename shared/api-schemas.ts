// Parameter schemas, checked by every transport before the implementation runs. Kept apart from
// api.ts so the renderer's bundle doesn't carry the validator it never uses.
import { z } from 'zod';
import type { MethodName, MethodParams } from './api.js';
import type { ServiceSpecRequest } from './service-schema.js';

/** Keyed by MethodName, so a method without a schema does not compile. */
const address = z.string().min(1).max(300);
const nodeRef = z.string().min(1).max(200);
const role = z.enum(['manager', 'worker']);
// Label keys as Docker accepts them: no '=' and no whitespace.
const labelKey = z.string().min(1).max(200).regex(/^[^=\s]+$/, 'a label key has no "=" and no spaces');

const serviceRef = z.string().min(1).max(200);
// The spec's own checks (Swarm's rules and texts) run in the control API; here only its outline.
const serviceSpec = z.custom<ServiceSpecRequest>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'a service spec object');
const refs = z.array(z.string().min(1).max(200)).max(100);

export const METHOD_PARAMS: { readonly [M in MethodName]: z.ZodType<MethodParams<M>> } = {
  getSystemInfo: z.tuple([]),
  getSwarmStatus: z.tuple([]),
  swarmInit: z.tuple([z.strictObject({ listenAddr: address.optional(), advertiseAddr: address.optional(), forceNewCluster: z.boolean().optional() })]),
  swarmJoin: z.tuple([z.strictObject({ token: z.string().min(1).max(200), remoteAddr: address, listenAddr: address.optional(), advertiseAddr: address.optional() })]),
  swarmLeave: z.tuple([z.boolean()]),
  swarmJoinToken: z.tuple([role, z.boolean()]),
  nodeList: z.tuple([]),
  nodeInspect: z.tuple([nodeRef]),
  nodePromote: z.tuple([nodeRef]),
  nodeDemote: z.tuple([nodeRef]),
  nodeRemove: z.tuple([nodeRef, z.boolean()]),
  nodeUpdate: z.tuple([
    nodeRef,
    z.strictObject({
      availability: z.enum(['active', 'pause', 'drain']).optional(),
      labelAdd: z.record(labelKey, z.string().max(1000)).optional(),
      labelRm: z.array(labelKey).max(100).optional(),
    }),
  ]),
  serviceCreate: z.tuple([serviceSpec]),
  serviceList: z.tuple([]),
  serviceInspect: z.tuple([serviceRef]),
  serviceUpdate: z.tuple([serviceRef, serviceSpec, z.strictObject({ rollback: z.boolean().optional() })]),
  serviceScale: z.tuple([serviceRef, z.number().int().min(0).max(100_000)]),
  serviceRemove: z.tuple([serviceRef]),
  serviceLogs: z.tuple([serviceRef, z.strictObject({ tail: z.number().int().min(0).max(10_000).optional(), sinceSeconds: z.number().int().min(0).optional() })]),
  taskList: z.tuple([z.strictObject({ services: refs.optional(), nodes: refs.optional(), desiredState: z.enum(['running', 'shutdown', 'accepted']).optional() })]),
};

/** A WebSocket request frame (see wire.ts). Bounded so one frame can't ask for unbounded work. */
export const requestFrame = z.object({
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(100),
  params: z.array(z.unknown()).max(16),
});

// Parameter schemas, checked by every transport before the implementation runs. Kept apart from
// api.ts so the renderer's bundle doesn't carry the validator it never uses.
import { z } from 'zod';
import type { MethodName, MethodParams } from './api.js';
import type { ServiceSpecRequest } from './service-schema.js';

/** Keyed by MethodName, so a method without a schema does not compile. */
const address = z.string().min(1).max(300);
const nodeRef = z.string().min(1).max(200);
const role = z.enum(['manager', 'worker']);

/**
 * The most one node's labels may take, keys and values together, in UTF-8 bytes. Docker sets no
 * bound of its own; Skep states one because labels travel in every node list, heartbeat answer
 * and Raft snapshot.
 */
export const MAX_NODE_LABEL_BYTES = 64 * 1024;

export function nodeLabelBytes(labels: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [key, value] of Object.entries(labels)) bytes += utf8Length(key) + utf8Length(value);
  return bytes;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

// Label keys and values as Docker's node update accepts them (spaces included); the total is
// checked against MAX_NODE_LABEL_BYTES where the labels are merged.
// Each string may be larger than the bound, so that a request past it gets the catalog's message.
const labelString = z.string().max(4 * MAX_NODE_LABEL_BYTES);
// An empty key is not refused here: the control API refuses it with the catalog's words (LABEL_EMPTY_KEY).
const labelKey = labelString;

const machineTarget = z.strictObject({
  user: z.string().min(1).max(32),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
});
const fingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'expected an OpenSSH fingerprint, SHA256:…');
const machineRequest = z.strictObject({
  target: machineTarget,
  auth: z.strictObject({
    password: z.string().max(1000).optional(),
    privateKey: z.string().max(64 * 1024).optional(),
    passphrase: z.string().max(1000).optional(),
    agentSocket: z.string().max(1000).optional(),
  }),
  sudoPassword: z.string().max(1000).optional(),
  acceptHostKey: fingerprint.optional(),
  replaceHostKey: fingerprint.optional(),
  role: role.optional(),
  installMissing: z.boolean().optional(),
  operationId: z.string().min(1).max(100).optional(),
});

const serviceRef = z.string().min(1).max(200);
// The spec's own checks (Swarm's rules and texts) run in the control API; here only its outline.
const serviceSpec = z.custom<ServiceSpecRequest>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'a service spec object');
const refs = z.array(z.string().min(1).max(200)).max(100);

export const METHOD_PARAMS: { readonly [M in MethodName]: z.ZodType<MethodParams<M>> } = {
  getSystemInfo: z.tuple([]),
  getSwarmStatus: z.tuple([]),
  swarmInit: z.tuple([z.strictObject({ listenAddr: address.optional(), advertiseAddr: address.optional(), forceNewCluster: z.boolean().optional(), autolock: z.boolean().optional() })]),
  swarmJoin: z.tuple([z.strictObject({ token: z.string().min(1).max(200), remoteAddr: address, listenAddr: address.optional(), advertiseAddr: address.optional() })]),
  swarmLeave: z.tuple([z.boolean()]),
  swarmJoinToken: z.tuple([role, z.boolean()]),
  swarmUpdate: z.tuple([z.strictObject({ autolock: z.boolean().optional() })]),
  // A SKEPKEY-1-… key is 53 characters; anything up to 200 gets the daemon's "invalid key" answer.
  swarmUnlock: z.tuple([z.strictObject({ key: z.string().max(200), remember: z.boolean().optional() })]),
  swarmUnlockKey: z.tuple([z.boolean()]),
  nodeList: z.tuple([]),
  nodeInspect: z.tuple([nodeRef]),
  nodePromote: z.tuple([nodeRef]),
  nodeDemote: z.tuple([nodeRef]),
  nodeRemove: z.tuple([nodeRef, z.boolean()]),
  nodeUpdate: z.tuple([
    nodeRef,
    z.strictObject({
      availability: z.enum(['active', 'pause', 'drain']).optional(),
      labelAdd: z.record(labelKey, labelString).optional(),
      labelRm: z.array(labelKey).max(1000).optional(),
    }),
  ]),
  machineHostKey: z.tuple([machineTarget]),
  machineCheck: z.tuple([machineRequest]),
  machineAdd: z.tuple([machineRequest]),
  machineList: z.tuple([]),
  machineRemove: z.tuple([machineRequest]),
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
/** The streaming calls' parameters (without the sink and signal the transport supplies). */
export const STREAM_PARAMS = {
  followServiceLogs: METHOD_PARAMS.serviceLogs,
} as const;

export const requestFrame = z.object({
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(100),
  params: z.array(z.unknown()).max(16),
});

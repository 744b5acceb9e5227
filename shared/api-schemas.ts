// Parameter schemas, checked by every transport before the implementation runs. Kept apart from
// api.ts so the renderer's bundle doesn't carry the validator it never uses.
import { z } from 'zod';
import type { MethodName, MethodParams } from './api.js';

/** Keyed by MethodName, so a method without a schema does not compile. */
const address = z.string().min(1).max(300);
const nodeRef = z.string().min(1).max(200);
const role = z.enum(['manager', 'worker']);
// Label keys as Docker accepts them: no '=' and no whitespace.
const labelKey = z.string().min(1).max(200).regex(/^[^=\s]+$/, 'a label key has no "=" and no spaces');

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
  machineHostKey: z.tuple([machineTarget]),
  machineCheck: z.tuple([machineRequest]),
  machineAdd: z.tuple([machineRequest]),
  machineList: z.tuple([]),
  machineRemove: z.tuple([machineRequest]),
};

/** A WebSocket request frame (see wire.ts). Bounded so one frame can't ask for unbounded work. */
export const requestFrame = z.object({
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(100),
  params: z.array(z.unknown()).max(16),
});

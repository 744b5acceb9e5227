// Parameter schemas, checked by every transport before the implementation runs. Kept apart from
// api.ts so the renderer's bundle doesn't carry the validator it never uses.
import { z } from 'zod';
import type { MethodName, MethodParams } from './api.js';

/** Keyed by MethodName, so a method without a schema does not compile. */
export const METHOD_PARAMS: { readonly [M in MethodName]: z.ZodType<MethodParams<M>> } = {
  getSystemInfo: z.tuple([]),
  getSwarmStatus: z.tuple([]),
};

/** A WebSocket request frame (see wire.ts). Bounded so one frame can't ask for unbounded work. */
export const requestFrame = z.object({
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(100),
  params: z.array(z.unknown()).max(16),
});

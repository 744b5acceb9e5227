// The one place a call from any transport meets the implementation: validate, run, wrap.
import { isMethodName, type Reply, type SkepApi } from './api.js';
import { METHOD_PARAMS } from './api-schemas.js';
import { skepError, toErrorEnvelope } from './errors.js';

export async function dispatchCall(api: SkepApi, method: unknown, params: unknown): Promise<Reply> {
  if (!isMethodName(method)) {
    return { ok: false, error: skepError('UNKNOWN_METHOD', String(method).slice(0, 100)).toEnvelope() };
  }
  const parsed = METHOD_PARAMS[method].safeParse(params);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`).join('; ');
    return { ok: false, error: skepError('INVALID_REQUEST', reason).toEnvelope() };
  }
  try {
    const implementation = api[method] as (...args: unknown[]) => Promise<unknown>;
    const result = await implementation.apply(api, parsed.data as unknown[]);
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error: toErrorEnvelope(error) };
  }
}

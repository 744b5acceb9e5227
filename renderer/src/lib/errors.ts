// Errors as a person reads them: the catalog's sentence when the node sent one.
import { SkepError } from '../../../shared/errors.js';

export function errorText(error: unknown): string {
  if (error instanceof SkepError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export function errorCode(error: unknown): SkepError['code'] | undefined {
  return error instanceof SkepError ? error.code : undefined;
}

// Small constructors for Decoded results, so records read like the RFC text.

import type { DecodeError, DecodeErrorCode, Decoded, Failure } from './types.js';

export function ok<T>(value: T, bytes: number): Decoded<T> {
  return { ok: true, value, bytes };
}

export function fail(code: DecodeErrorCode, field: string, offset: number, detail?: string): Failure {
  const error: DecodeError = detail === undefined ? { code, field, offset } : { code, field, offset, detail };
  return { ok: false, error };
}


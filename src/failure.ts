import { ClientError, ErrorCode } from './protocol.js';
import { AuthError } from './auth/authenticate.js';
import { isStoreUnavailable } from './db/errors.js';
import type { Logger } from './log.js';

/**
 * What went wrong with a request, for the three answers every transport gives (HTTP routes,
 * WebSocket requests, WebSocket upgrades):
 * - `client`: the caller's fault; its message is safe to show as-is;
 * - `unavailable`: the database could not be reached; worth a retry, not a bug;
 * - `internal`: anything else; a bug, shown only as "Internal error".
 */
export type Failure =
  | { kind: 'client'; code: ErrorCode; message: string; extra?: Record<string, unknown> | undefined }
  | { kind: 'unavailable' }
  | { kind: 'internal' };

/** Pure: sorts a thrown value into one of the three kinds. */
export function classifyFailure(err: unknown): Failure {
  if (err instanceof ClientError) return { kind: 'client', code: err.code, message: err.message, extra: err.extra };
  if (err instanceof AuthError) return { kind: 'client', code: ErrorCode.UNAUTHORIZED, message: err.message };
  if (isStoreUnavailable(err)) return { kind: 'unavailable' };
  return { kind: 'internal' };
}

/**
 * Classifies `err` and, when it was the server's side, logs it (a warning for an unreachable
 * database, an error otherwise, with `msg` and `context`) and calls `count` (metrics).
 */
export function reportFailure(
  err: unknown,
  to: { log: Logger; count(kind: 'unavailable' | 'other'): void },
  msg: string,
  context: Record<string, unknown> = {},
): Failure {
  const f = classifyFailure(err);
  if (f.kind === 'unavailable') {
    to.count('unavailable');
    to.log.warn({ err, ...context }, 'database unavailable');
  } else if (f.kind === 'internal') {
    to.count('other');
    to.log.error({ err, ...context }, msg);
  }
  return f;
}

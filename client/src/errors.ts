import type { ErrorCode } from './wire.js';

/** Failures the SDK itself detects, next to the protocol's codes. */
export type ClientErrorCode =
  /** No reply within the request's time limit (sends: within `sendTimeoutMs`, offline time included). */
  | 'TIMEOUT'
  /** The socket dropped before a read's reply came (reads are not resent: call again). */
  | 'DISCONNECTED'
  /** The client was closed (by `close()`, or for good by the server: 4003). */
  | 'CLOSED'
  /** Too many sends waiting while offline (`maxQueuedSends`). */
  | 'QUEUE_FULL'
  /** The server could not be reached, or answered something that is not the protocol. */
  | 'NETWORK'
  /** An upload cancelled through its AbortSignal. */
  | 'ABORTED';

/** A request that failed: `code` is the protocol's error code, or one of the SDK's own. */
export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    /** The message type (WebSocket) or route (HTTP) that failed. */
    readonly type?: string,
    /** HTTP status, for the HTTP helpers. */
    readonly status?: number,
    /** RATE_LIMITED: how long to wait before trying again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

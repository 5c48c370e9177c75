/**
 * The v1 wire protocol in one place: envelopes, error codes and close codes.
 * The brief (seed/original-readme.md) fixes the shapes; PROTOCOL.md pins down the rest.
 * Their types are the SDK's (client/src/wire.ts, imported as types only: no client code runs
 * here); the values below are checked against them, so the server and the SDK cannot drift.
 */
import type { CloseCodes, ErrorCode as WireErrorCode, PushData, PushMessage, PushType } from '../client/src/wire.js';

export const ErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  VALIDATION: 'VALIDATION',
  UNAUTHORIZED: 'UNAUTHORIZED',
  NOT_FOUND: 'NOT_FOUND',
  FORBIDDEN: 'FORBIDDEN',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL: 'INTERNAL',
  UNAVAILABLE: 'UNAVAILABLE',
} as const satisfies { [K in WireErrorCode]: K };
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const CloseCode = {
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** The client broke the protocol badly enough that answering is pointless (ignored rate limits). */
  POLICY_VIOLATION: 1008,
  /** A frame over the size cap. */
  MESSAGE_TOO_BIG: 1009,
  /** The client read too slowly and its send buffer passed WS_MAX_BACKPRESSURE. */
  TRY_AGAIN_LATER: 1013,
  TOKEN_EXPIRED: 4001,
  /** The account was deleted or its password changed. */
  REVOKED: 4003,
} as const satisfies CloseCodes;

/** The brief's word for a group member check that fails; clients match on it. */
export const NOT_A_MEMBER = 'User is not a member of this group';

/** An error that reaches the client as-is: its message must be safe to show. */
export class ClientError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export type RequestId = string | number;

export interface ReplyParams {
  data: unknown;
  message: string | null;
  senderName: string | null;
}

/**
 * A reply's `data` already encoded as JSON text, by the database (the history reads: row_to_json
 * writes the same text JSON.stringify would, keys in column order), with the shape `T` it encodes.
 * The frame takes it as it is: no rows to parse into objects and stringify again.
 */
export class JsonText<T> {
  declare readonly shape?: T;
  constructor(readonly text: string) {}
}

export function successFrame(type: string, data: unknown, requestId?: RequestId): string {
  if (data instanceof JsonText) {
    // The same bytes JSON.stringify makes of the object below, in the same key order.
    const id = requestId === undefined ? '' : `,"requestId":${JSON.stringify(requestId)}`;
    return `{"type":${JSON.stringify(type)},"success":true,"params":{"data":${data.text},"message":null,"senderName":null}${id}}`;
  }
  const frame: Record<string, unknown> = { type, success: true, params: { data, message: null, senderName: null } };
  if (requestId !== undefined) frame.requestId = requestId;
  return JSON.stringify(frame);
}

/**
 * What the server hands to JSON.stringify for a wire type: the same shape, with dates still
 * `Date` objects where the wire has their ISO strings (JSON.stringify writes them so).
 */
export type Encoded<T> = T extends string ? string | Date
  : T extends readonly (infer U)[] ? readonly Encoded<U>[]
  : T extends object ? { [K in keyof T]: Encoded<T[K]> }
  : T;

/**
 * A wire type with its optional fields required: the contract marks v1.1's additions to v1
 * shapes optional (a client may meet a v1 server); this server speaks v1.1 and sends them all.
 */
export type Complete<T> = T extends readonly (infer U)[] ? readonly Complete<U>[]
  : T extends object ? { [K in keyof T]-?: Complete<T[K]> }
  : T;

/** A push of `type`, its data and message typed by the wire contract (v1.1 fields included). */
export function pushFrame<T extends PushType>(type: T, data: Encoded<Complete<PushData<T>>>, message: PushMessage<T>, senderName: string): string {
  // `type` first: pushType reads it back without parsing the frame.
  return JSON.stringify({ type, success: true, params: { data, message, senderName } });
}

/** The event type of a frame made by pushFrame (undefined for anything else): a prefix match, no parse. */
export function pushType(frame: string): string | undefined {
  return /^\{"type":"(\w{1,40})"/.exec(frame)?.[1];
}

export function errorFrame(
  type: string,
  code: ErrorCode,
  message: string,
  requestId?: RequestId,
  extra?: Record<string, unknown>,
): string {
  const frame: Record<string, unknown> = { error: true, type, message, code, ...extra };
  if (requestId !== undefined) frame.requestId = requestId;
  return JSON.stringify(frame);
}

/** Topics of uWS pub/sub (and of the cluster relay): one per user, one per group. */
export const userTopic = (userId: number): string => `u:${userId}`;
export const groupTopic = (groupId: number): string => `g:${groupId}`;

export const DELETED_NAME = 'Deleted account';

/** The largest user or group id: their columns are PostgreSQL int4. */
export const MAX_ID32 = 2 ** 31 - 1;

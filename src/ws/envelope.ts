import * as v from 'valibot';
import { ErrorCode, errorFrame } from '../protocol.js';
import type { Job } from './session.js';

/*
 * The request envelope of PROTOCOL.md, read from a text frame. Pure: no socket, no handler
 * table (the caller says which types exist), so every refusal is unit-tested without a server.
 */

const RequestIdSchema = v.optional(v.union([v.pipe(v.string(), v.maxLength(128)), v.pipe(v.number(), v.finite())]));

const answer = (frame: string): Job => ({ kind: 'answer', frame });

/** Reads the envelope; anything that is not a request becomes an error frame to queue. */
export function readEnvelope(raw: string, isKnownType: (type: string) => boolean): Job {
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return answer(errorFrame('processor', ErrorCode.BAD_REQUEST, 'Message is not valid JSON'));
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return answer(errorFrame('processor', ErrorCode.BAD_REQUEST, 'Message must be a JSON object'));
  }
  const { type, params, requestId: rawId } = msg as Record<string, unknown>;
  const id = v.safeParse(RequestIdSchema, rawId);
  const requestId = id.success ? id.output : undefined;
  if (typeof type !== 'string' || type === '') {
    return answer(errorFrame('processor', ErrorCode.BAD_REQUEST, 'Message type must be a non-empty string', requestId));
  }
  if (!id.success) {
    return answer(errorFrame(type, ErrorCode.BAD_REQUEST, 'requestId must be a string (up to 128 characters) or a number'));
  }
  if (!isKnownType(type)) {
    return answer(errorFrame(type, ErrorCode.BAD_REQUEST, `Unknown message type: ${type.slice(0, 64)}`, requestId));
  }
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    return answer(errorFrame(type, ErrorCode.VALIDATION, 'params must be an object', requestId));
  }
  return { kind: 'request', type, params: params ?? {}, requestId };
}

/** The answer to a frame refused for rate: in place of whatever the frame asked, same type and requestId. */
export function rateLimitedAnswer(job: Job, retryAfterMs: number): Job {
  const type = job.kind === 'request' ? job.type : 'processor';
  const requestId = job.kind === 'request' ? job.requestId : undefined;
  return answer(errorFrame(type, ErrorCode.RATE_LIMITED, 'Too many requests; slow down', requestId, { retryAfterMs }));
}

/** A binary frame: the protocol is JSON text. */
export const binaryFrameAnswer = (): Job =>
  answer(errorFrame('processor', ErrorCode.BAD_REQUEST, 'Binary frames are not supported; send JSON text'));

/** `Sec-WebSocket-Protocol: auth, <token>` is how browsers, which cannot set headers, send a token. */
export function protocolToken(header: string): string | undefined {
  const parts = header.split(',').map((p) => p.trim());
  return parts[0] === 'auth' && parts[1] ? parts[1] : undefined;
}

import { RelayError } from './errors.js';

/**
 * The protocol's bounds a request can break on the client's side (PROTOCOL.md, "Envelope").
 * Checked before a frame leaves: a request over them can never succeed, and a frame over 64 KiB
 * would make the server close the socket (1009) instead of answering, so it must never be sent.
 */
export interface Limits {
  /** Longest `content` (sends, edits), in Unicode code points (default 4096). */
  contentCodePoints?: number;
  /** Largest frame, in UTF-8 bytes (default 65 536). */
  frameBytes?: number;
}

export const PROTOCOL_LIMITS: Required<Limits> = { contentCodePoints: 4096, frameBytes: 64 * 1024 };

/** `clientMessageId`: 1..64 characters (PROTOCOL.md, safe resend). */
const MAX_CLIENT_MESSAGE_ID = 64;

/** PROTOCOL.md counts lengths in code points; String#length counts UTF-16 units. */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const encoder = new TextEncoder();

/** The frame's size on the wire: what the server's 64 KiB cap measures. */
export const frameBytes = (frame: string): number => encoder.encode(frame).byteLength;

/**
 * Why `params` can never be accepted, as the RelayError to reject with; undefined when within the
 * bounds. Only what the client can know for sure: the server still checks everything.
 */
export function checkParams(type: string, params: unknown, limits: Required<Limits>): RelayError | undefined {
  const p = params as { content?: unknown; clientMessageId?: unknown };
  if (typeof p.content === 'string') {
    const n = codePoints(p.content);
    if (n > limits.contentCodePoints) {
      return new RelayError('VALIDATION', `content is ${n} code points; at most ${limits.contentCodePoints} are allowed`, type);
    }
  }
  if (typeof p.clientMessageId === 'string' && (p.clientMessageId.length < 1 || p.clientMessageId.length > MAX_CLIENT_MESSAGE_ID)) {
    return new RelayError('VALIDATION', `clientMessageId must be 1..${MAX_CLIENT_MESSAGE_ID} characters`, type);
  }
  return undefined;
}

/** The frame over the server's cap, as the RelayError to reject with; undefined when it fits. */
export function checkFrame(type: string, frame: string, limits: Required<Limits>): RelayError | undefined {
  // A UTF-16 unit is at most 3 bytes of UTF-8: most frames need no encoding to be known to fit.
  if (frame.length * 3 <= limits.frameBytes) return undefined;
  const bytes = frameBytes(frame);
  return bytes > limits.frameBytes
    ? new RelayError('PAYLOAD_TOO_LARGE', `the ${type} frame is ${bytes} bytes; the server takes at most ${limits.frameBytes}`, type)
    : undefined;
}

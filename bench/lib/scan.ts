/**
 * Reading the few fields the generator needs straight from frame bytes, without decoding or
 * JSON.parse: a full parse of every push caps a Node receiver near 240k deliveries/s.
 * One pure-JS pass per frame; Buffer#indexOf looks cheaper but its native call costs more
 * than scanning a 250-byte frame (it took half the receiver's CPU in a profile).
 * It relies on what JSON.stringify emits (no white space) and on content strings the bench
 * writes itself: a tag `"@<letter><digits>` occurs nowhere else in a frame.
 */
const QUOTE = 0x22;
const AT = 0x40;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const REQUEST_ID = Buffer.from('"requestId":');
const ERROR_TRUE = Buffer.from('"error":true');
const CODE = Buffer.from('"code":"');

/** What one pass over a frame found; reuse one instance per receiver to allocate nothing. */
export interface FrameFacts {
  /** The reply's requestId, or -1 for a push (pushes never carry one). */
  requestId: number;
  /** Offset of the letter of the first `"@<letter>` tag, or -1. */
  tagAt: number;
}

export function newFacts(): FrameFacts {
  return { requestId: -1, tagAt: -1 };
}

function matchesAt(frame: Buffer, at: number, needle: Buffer): boolean {
  if (at + needle.length > frame.length) return false;
  for (let k = 1; k < needle.length; k++) if (frame[at + k] !== needle[k]) return false;
  return true;
}

export function scanFrame(frame: Buffer, facts: FrameFacts): void {
  facts.requestId = -1;
  facts.tagAt = -1;
  const last = frame.length - 1;
  for (let i = 0; i < last; i++) {
    if (frame[i] !== QUOTE) continue;
    const next = frame[i + 1];
    if (next === AT) {
      if (facts.tagAt === -1) facts.tagAt = i + 2;
    } else if (next === 0x72 /* r */ && matchesAt(frame, i, REQUEST_ID)) {
      facts.requestId = readUint(frame, i + REQUEST_ID.length);
      return;
    }
  }
}

/** Non-negative integer written at `at` (an optional leading quote is skipped), or -1. */
export function readUint(frame: Buffer, at: number): number {
  let i = at;
  if (frame[i] === QUOTE) i++;
  let value = 0;
  const start = i;
  for (; i < frame.length; i++) {
    const c = frame[i] ?? 0;
    if (c < DIGIT_0 || c > DIGIT_9) break;
    value = value * 10 + (c - DIGIT_0);
  }
  return i === start ? -1 : value;
}

/** Rare path (replies only): was this an error reply? */
export function isErrorReply(frame: Buffer): boolean {
  return frame.indexOf(ERROR_TRUE) !== -1;
}

/** The `code` of an error reply, decoded only on the rare error path. */
export function readErrorCode(frame: Buffer): string {
  const at = frame.indexOf(CODE);
  if (at === -1) return 'UNKNOWN';
  const end = frame.indexOf(QUOTE, at + CODE.length);
  return frame.toString('latin1', at + CODE.length, end === -1 ? frame.length : end);
}

/** The tag's letter (a char code) at facts.tagAt. */
export function tagKind(frame: Buffer, tagAt: number): number {
  return frame[tagAt] ?? 0;
}

/** The number following the tag's letter. */
export function tagValue(frame: Buffer, tagAt: number): number {
  return readUint(frame, tagAt + 1);
}

/** Content the bench sends: the tag is the whole string, so it is found at the start of a JSON string. */
export function tag(letter: string, value: number): string {
  return `@${letter}${value}`;
}

/**
 * `--mix v12`: protocol v1.2's replies, mentions and reactions mixed into the send scenarios
 * (fanout, private), 10 % each, and reactions on a third of the history scenario's rows.
 * `plain` (the default) sends what a v1.1 client sends. The generators decide per send with one
 * Math.random() and read the few fields they need from frame bytes, as scan.ts does.
 */
export type Mix = 'plain' | 'v12';

export const MIXES: readonly Mix[] = ['plain', 'v12'];

/** Share of sends that reply, that mention (groups), that are a reaction instead of a message. */
export const MIX_SHARE = 0.1;

/** What one v12 send is: chosen per send, each 10 %. */
export type MixKind = 'plain' | 'reply' | 'mention' | 'reaction';

export function pickKind(mix: Mix): MixKind {
  if (mix === 'plain') return 'plain';
  const r = Math.random();
  return r < MIX_SHARE ? 'reply' : r < 2 * MIX_SHARE ? 'mention' : r < 3 * MIX_SHARE ? 'reaction' : 'plain';
}

const DATA_ID = Buffer.from('"data":{"id":');

/** The message id of a send reply or a message push (`"data":{"id":N`), or -1 (a reaction's data starts with messageId). */
export function readDataId(frame: Buffer): number {
  const at = frame.indexOf(DATA_ID);
  if (at === -1) return -1;
  let value = 0;
  let i = at + DATA_ID.length;
  const start = i;
  for (; i < frame.length; i++) {
    const c = frame[i] ?? 0;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
  }
  return i === start ? -1 : value;
}

const ADD_REACTION = Buffer.from('{"type":"addReaction"');
const REMOVE_REACTION = Buffer.from('{"type":"removeReaction"');

/** A reaction push (pushFrame writes `type` first). */
export function isReactionPush(frame: Buffer): boolean {
  return startsWith(frame, ADD_REACTION) || startsWith(frame, REMOVE_REACTION);
}

function startsWith(frame: Buffer, prefix: Buffer): boolean {
  if (frame.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (frame[i] !== prefix[i]) return false;
  return true;
}

/** The one emoji the generators toggle: each toggle changes the message's reactions, so each is pushed. */
export const BENCH_EMOJI = '👍';

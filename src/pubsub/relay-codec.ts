import * as v from 'valibot';
import type { ControlEvent } from './types.js';

/*
 * Wire format of a message relayed between nodes, on channel `${prefix}${topic}`:
 *   "1" (format version) + node id (16 hex characters) + kind ("p" or "c") + payload
 * kind "p": the payload is the encoded push frame, handed to uWS as it is (no re-encoding);
 * kind "c": the payload is a JSON ControlEvent, on the topic `u:<id>` of the user it acts on
 *           (every node with a connection of that user is subscribed to that topic).
 * Pure: no I/O, so the cluster transport's parsing is tested without Redis.
 */

const FORMAT = '1';
export const NODE_ID_LENGTH = 16;
const HEADER_LENGTH = 1 + NODE_ID_LENGTH + 1;
const KIND_OFFSET = 1 + NODE_ID_LENGTH;
const KIND_PUSH = 'p';
const KIND_CONTROL = 'c';
const USER_TOPIC = /^u:(\d{1,10})$/;

/** The header a node puts before what it relays: computed once per node. */
export function relayHeaders(nodeId: string): { push: string; control: string } {
  if (!/^[0-9a-f]+$/.test(nodeId) || nodeId.length !== NODE_ID_LENGTH) throw new Error(`node id must be ${NODE_ID_LENGTH} hex characters`);
  return { push: FORMAT + nodeId + KIND_PUSH, control: FORMAT + nodeId + KIND_CONTROL };
}

export const encodePush = (headers: { push: string }, frame: string): string => headers.push + frame;
export const encodeControl = (headers: { control: string }, event: ControlEvent): string => headers.control + JSON.stringify(event);

// Ids as the protocol bounds them; a relayed event is checked like a client's request would be.
const Id = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
const ControlEventSchema = v.variant('op', [
  v.object({ op: v.literal('join'), groupId: Id, push: v.optional(v.string()) }),
  v.object({ op: v.literal('leave'), groupId: Id }),
  v.object({ op: v.literal('close'), code: v.pipe(v.number(), v.integer()), reason: v.string() }),
]);

/** Reads a control event relayed by another node; anything malformed is refused. */
export function parseControl(text: string): ControlEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = v.safeParse(ControlEventSchema, raw);
  if (!r.success) return undefined;
  const e = r.output;
  // Only known keys go on: an extra field from a newer node never reaches the sockets.
  switch (e.op) {
    case 'join': return e.push === undefined ? { op: 'join', groupId: e.groupId } : { op: 'join', groupId: e.groupId, push: e.push };
    case 'leave': return { op: 'leave', groupId: e.groupId };
    case 'close': return { op: 'close', code: e.code, reason: e.reason };
  }
}

export type Relayed =
  /** Published by this node (delivered here before it was relayed), or not ours to read. */
  | { kind: 'skip' }
  /** A push for the topic's local subscribers; `frame` is a view into the message (no copy). */
  | { kind: 'push'; topic: string; frame: Buffer }
  | { kind: 'control'; userId: number; event: ControlEvent }
  | { kind: 'malformed'; topic: string };

/** Reads a message from `channel`: `ownId` is this node's id (as bytes, compared without decoding). */
export function decodeRelayed(channel: Buffer, message: Buffer, prefix: string, ownId: Buffer): Relayed {
  if (message.length < HEADER_LENGTH || message[0] !== FORMAT.charCodeAt(0)) return { kind: 'skip' };
  if (message.compare(ownId, 0, NODE_ID_LENGTH, 1, 1 + NODE_ID_LENGTH) === 0) return { kind: 'skip' };
  const name = channel.toString('latin1');
  if (!name.startsWith(prefix)) return { kind: 'skip' };
  const topic = name.slice(prefix.length);
  const kind = String.fromCharCode(message[KIND_OFFSET]!);
  if (kind === KIND_PUSH) return { kind: 'push', topic, frame: message.subarray(HEADER_LENGTH) };
  if (kind !== KIND_CONTROL) return { kind: 'skip' };
  const user = USER_TOPIC.exec(topic);
  const event = parseControl(message.toString('utf8', HEADER_LENGTH));
  return user && event ? { kind: 'control', userId: Number(user[1]), event } : { kind: 'malformed', topic };
}

// pubsub/relay-codec.ts: what nodes send each other through Redis, read and written without Redis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRelayed, encodeControl, encodePush, parseControl, relayHeaders } from '../src/pubsub/relay-codec.js';

const A = '0123456789abcdef';
const B = 'fedcba9876543210';
const prefix = 'relay:';
const from = (node: string) => relayHeaders(node);
const decode = (channel: string, message: string, own = B) =>
  decodeRelayed(Buffer.from(channel, 'latin1'), Buffer.from(message, 'utf8'), prefix, Buffer.from(own, 'latin1'));

test('a push relayed by another node comes back as its topic and the frame bytes, unchanged', () => {
  const frame = '{"type":"messageInGroup","success":true,"params":{"data":{"id":1},"message":"héllo","senderName":"A"}}';
  const m = decode('relay:g:42', encodePush(from(A), frame));
  assert.equal(m.kind, 'push');
  if (m.kind !== 'push') return;
  assert.equal(m.topic, 'g:42');
  assert.equal(m.frame.toString('utf8'), frame);
});

test('a node skips its own relays, other prefixes, other formats and unknown kinds', () => {
  assert.deepEqual(decode('relay:g:1', encodePush(from(A), '{}'), A), { kind: 'skip' });
  assert.deepEqual(decode('other:g:1', encodePush(from(A), '{}')), { kind: 'skip' });
  assert.deepEqual(decode('relay:g:1', '2' + A + 'p{}'), { kind: 'skip' });
  assert.deepEqual(decode('relay:g:1', '1' + A + 'x{}'), { kind: 'skip' });
  assert.deepEqual(decode('relay:g:1', '1abc'), { kind: 'skip' });
});

test('control events round-trip on the user topic; on any other topic they are malformed', () => {
  const events = [
    { op: 'join', groupId: 5 },
    { op: 'join', groupId: 5, push: '{"type":"newGroup"}' },
    { op: 'leave', groupId: 7 },
    { op: 'close', code: 4003, reason: 'Token revoked' },
  ] as const;
  for (const event of events) {
    assert.deepEqual(decode('relay:u:12', encodeControl(from(A), event)), { kind: 'control', userId: 12, event });
  }
  assert.deepEqual(decode('relay:g:12', encodeControl(from(A), events[0])), { kind: 'malformed', topic: 'g:12' });
});

test('parseControl refuses what is not a control event, and drops unknown keys', () => {
  for (const text of ['', 'nope', 'null', '[]', '{"op":"join"}', '{"op":"join","groupId":"5"}', '{"op":"join","groupId":1.5}',
    '{"op":"join","groupId":0}', '{"op":"join","groupId":3,"push":5}', '{"op":"leave"}', '{"op":"close","code":4003}',
    '{"op":"close","code":"x","reason":"r"}', '{"op":"drop","groupId":1}']) {
    assert.equal(parseControl(text), undefined, text);
  }
  assert.deepEqual(parseControl('{"op":"leave","groupId":3,"extra":true}'), { op: 'leave', groupId: 3 });
});

test('a node id must be 16 hex characters', () => {
  assert.throws(() => relayHeaders('short'));
  assert.throws(() => relayHeaders('0123456789ABCDEF'));
  assert.deepEqual(relayHeaders(A), { push: `1${A}p`, control: `1${A}c` });
});

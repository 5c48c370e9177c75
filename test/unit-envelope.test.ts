// ws/envelope.ts: the request envelope of PROTOCOL.md read without a socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryFrameAnswer, protocolToken, rateLimitedAnswer, readEnvelope } from '../src/ws/envelope.js';
import type { Job } from '../src/ws/session.js';

const known = (t: string): boolean => t === 'privateMessage';
const read = (raw: string): Job => readEnvelope(raw, known);
const answerOf = (job: Job): Record<string, unknown> => {
  assert.equal(job.kind, 'answer', JSON.stringify(job));
  return JSON.parse((job as { frame: string }).frame) as Record<string, unknown>;
};

test('a well-formed request becomes a request job; absent params count as {}', () => {
  assert.deepEqual(read('{"type":"privateMessage","params":{"a":1},"requestId":"r1"}'),
    { kind: 'request', type: 'privateMessage', params: { a: 1 }, requestId: 'r1' });
  assert.deepEqual(read('{"type":"privateMessage","requestId":7}'), { kind: 'request', type: 'privateMessage', params: {}, requestId: 7 });
  assert.deepEqual(read('{"type":"privateMessage"}'), { kind: 'request', type: 'privateMessage', params: {}, requestId: undefined });
});

test('what is not a JSON object is answered BAD_REQUEST as "processor"', () => {
  for (const raw of ['not json', '[1,2]', 'null', '12', '"text"']) {
    const f = answerOf(read(raw));
    assert.equal(f.type, 'processor', raw);
    assert.equal(f.code, 'BAD_REQUEST', raw);
    assert.equal(f.error, true);
    assert.equal(f.requestId, undefined);
  }
});

test('a missing or empty type is BAD_REQUEST, with the requestId when it could be read', () => {
  assert.deepEqual(answerOf(read('{"requestId":3}')), { error: true, type: 'processor', code: 'BAD_REQUEST', message: 'Message type must be a non-empty string', requestId: 3 });
  assert.equal(answerOf(read('{"type":"","requestId":"x"}')).requestId, 'x');
  assert.equal(answerOf(read('{"type":5}')).type, 'processor');
});

test('a bad requestId, an unknown type and non-object params are refused with their own codes', () => {
  const badId = answerOf(read(`{"type":"privateMessage","requestId":"${'x'.repeat(129)}"}`));
  assert.equal(badId.code, 'BAD_REQUEST');
  assert.equal(badId.type, 'privateMessage');
  assert.equal(badId.requestId, undefined);
  assert.equal(answerOf(read('{"type":"privateMessage","requestId":{}}')).code, 'BAD_REQUEST');

  const unknown = answerOf(read(`{"type":"toString","requestId":1}`));
  assert.deepEqual(unknown, { error: true, type: 'toString', code: 'BAD_REQUEST', message: 'Unknown message type: toString', requestId: 1 });
  assert.equal((answerOf(read(`{"type":"${'y'.repeat(500)}"}`)).message as string).length, 'Unknown message type: '.length + 64);

  for (const params of ['[]', 'null', '"s"', '3']) {
    const f = answerOf(read(`{"type":"privateMessage","params":${params},"requestId":2}`));
    assert.equal(f.code, 'VALIDATION', params);
    assert.equal(f.requestId, 2);
  }
});

test('a rate refusal keeps the type and requestId of a request, and says when to retry', () => {
  const f = answerOf(rateLimitedAnswer({ kind: 'request', type: 'privateMessage', params: {}, requestId: 9 }, 50));
  assert.deepEqual(f, { error: true, type: 'privateMessage', code: 'RATE_LIMITED', message: 'Too many requests; slow down', retryAfterMs: 50, requestId: 9 });
  const g = answerOf(rateLimitedAnswer(read('oops'), 50));
  assert.equal(g.type, 'processor');
  assert.equal(g.requestId, undefined);
  assert.equal(answerOf(binaryFrameAnswer()).code, 'BAD_REQUEST');
});

test('Sec-WebSocket-Protocol: "auth, <token>" carries a token; anything else does not', () => {
  assert.equal(protocolToken('auth, abc.def'), 'abc.def');
  assert.equal(protocolToken('auth,abc'), 'abc');
  assert.equal(protocolToken('auth'), undefined);
  assert.equal(protocolToken('chat, abc'), undefined);
  assert.equal(protocolToken(''), undefined);
});

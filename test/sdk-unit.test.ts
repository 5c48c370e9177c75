// Pure parts of the SDK, no server: backoff, token reading, the tracker behind "each message
// once", and that the SDK's bundle holds no server code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { backoffDelay, readToken, conversationOf, conversationKey, CloseCode } from 'relay-client';
import { CloseCode as ServerCloseCode } from '../src/protocol.js';

test('backoff: jittered within [ceiling/2, ceiling), doubling up to the maximum', () => {
  const opts = { initialDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(backoffDelay(0, opts, () => 0), 50);
  assert.equal(backoffDelay(0, opts, () => 0.999999), 99);
  assert.equal(backoffDelay(1, opts, () => 0), 100);
  assert.equal(backoffDelay(3, opts, () => 0), 400);
  assert.equal(backoffDelay(10, opts, () => 0), 500, 'capped at the maximum');
  assert.equal(backoffDelay(10_000, opts, () => 0.5), 750, 'no overflow for a huge attempt count');
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, opts)));
  assert.ok(spread.size > 10, 'clients dropped together come back spread out');
});

test('readToken: the user id and expiry of a JWT payload; garbage is refused', () => {
  const payload = Buffer.from(JSON.stringify({ id: 42, sub: '42', iat: 1_899_913_600, exp: 1_900_000_000 })).toString('base64url');
  assert.deepEqual(readToken(`x.${payload}.y`), { userId: 42, iat: 1_899_913_600, exp: 1_900_000_000 });
  const subOnly = Buffer.from(JSON.stringify({ sub: '7' })).toString('base64url');
  assert.deepEqual(readToken(`x.${subOnly}.y`), { userId: 7, iat: undefined, exp: undefined });
  assert.throws(() => readToken('not-a-token'));
  assert.throws(() => readToken(`x.${Buffer.from('{}').toString('base64url')}.y`));
});

test('conversations seen from one user: a dialog is keyed by the partner, whichever side sent', () => {
  assert.deepEqual(conversationOf({ senderId: 1, receiverId: 2, groupId: null }, 1), { kind: 'dialog', peerId: 2 });
  assert.deepEqual(conversationOf({ senderId: 2, receiverId: 1, groupId: null }, 1), { kind: 'dialog', peerId: 2 });
  assert.deepEqual(conversationOf({ senderId: 1, receiverId: 1, groupId: null }, 1), { kind: 'dialog', peerId: 1 });
  assert.equal(conversationKey(conversationOf({ senderId: 3, receiverId: null, groupId: 9 }, 1)), 'g:9');
});

test('the SDK and the server agree on close codes; the SDK build imports nothing outside itself', () => {
  assert.deepEqual({ ...CloseCode }, { ...ServerCloseCode });
  const dist = path.resolve('client/dist');
  for (const file of readdirSync(dist).filter((f) => f.endsWith('.js'))) {
    const code = readFileSync(path.join(dist, file), 'utf8');
    for (const [, spec] of code.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      assert.match(spec!, /^\.\/[\w-]+\.js$/, `${file} imports only its own modules, not ${spec}`);
    }
  }
});

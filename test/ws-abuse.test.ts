// Abuse: every malformed or forbidden request gets the error envelope with the right code and a
// clear message (no SQL, no stack), and the same connection keeps serving afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp, sleep, type Account, type Client, type Frame } from './helpers/client.js';
import { useRelay, settle, assertReply, ok } from './helpers/protocol.js';
import { assertErrorFrame } from './helpers/kit.js';

let alice: Account;
let bob: Account;
let conn: Client;
let bobConn: Client;
let groupId: number;

const fx = useRelay('ws_abuse', { AUTH_RATE_PER_MINUTE: '100000' }, async () => {
  alice = await signUp(fx.relay.http, 'Alice');
  bob = await signUp(fx.relay.http, 'Bob');
  conn = await connect(alice);
  bobConn = await connect(bob);
  groupId = (await ok(conn, 'newGroup', { groupName: 'Abuse' })).groupId;
  await ok(conn, 'addUserInGroup', { groupId, userId: bob.id });
});
const { connect } = fx;

/**
 * Stricter than `errorOf` of helpers/protocol.ts: the kit's assertErrorFrame (a message of 5 to
 * 300 characters, a wider SQL/stack pattern), a numeric requestId, and optionally the message.
 */
async function errorOf(c: Client, type: string, params: unknown, code: string, message?: string | RegExp): Promise<Frame> {
  const f = await c.request(type, params);
  assertErrorFrame(f, type, code, f.requestId);
  assert.ok(typeof f.requestId === 'number', 'requestId echoed');
  if (typeof message === 'string') assert.equal(f.message, message);
  else if (message) assert.match(f.message, message);
  return f;
}

/**
 * Sends a raw frame and returns the next frame received after it. Raw frames carry string
 * requestIds only: Client.request numbers its own from 1 and would match an old frame.
 */
async function rawNext(c: Client, data: string | Buffer, binary = false): Promise<Frame> {
  const start = c.frames.length;
  c.sendRaw(data, binary);
  return c.wait((f) => c.frames.indexOf(f) >= start, 3000, 'answer to a raw frame');
}

/** The connection still answers a normal request. */
async function assertAlive(c: Client): Promise<void> {
  const rows = await ok(c, 'listLastMessage', { limit: 1 });
  assert.ok(Array.isArray(rows));
  assert.equal(c.closeCode, undefined, 'still open');
}

test('not JSON → BAD_REQUEST of type "processor"; the connection keeps serving', async () => {
  for (const raw of ['hello', '{"type":', '{type: "listLastMessage"}', '', '\u0000', "{'type':'x'}"]) {
    const f = await rawNext(conn, raw);
    assertErrorFrame(f, 'processor', 'BAD_REQUEST');
    assert.match(f.message, /JSON/);
  }
  await assertAlive(conn);
});

test('JSON that is not an object → BAD_REQUEST "processor"', async () => {
  for (const raw of ['[]', '[{"type":"listLastMessage"}]', '42', '"listLastMessage"', 'null', 'true']) {
    const f = await rawNext(conn, raw);
    assertErrorFrame(f, 'processor', 'BAD_REQUEST');
    assert.match(f.message, /object/i, raw);
  }
  await assertAlive(conn);
});

test('missing or non-string type → BAD_REQUEST "processor", requestId still echoed', async () => {
  for (const [body, rid] of [[{ params: {}, requestId: 'r1' }, 'r1'], [{ type: 7, requestId: 'r8' }, 'r8'], [{ type: '', requestId: 'e' }, 'e'], [{ type: null }, undefined]] as const) {
    const f = await rawNext(conn, JSON.stringify(body));
    assertErrorFrame(f, 'processor', 'BAD_REQUEST', rid);
    assert.match(f.message, /type/);
  }
  await assertAlive(conn);
});

test('unknown type → BAD_REQUEST with the type echoed', async () => {
  for (const type of ['nope', 'toString', '__proto__', 'constructor', 'ListLastMessage', 'hasOwnProperty']) {
    const f = await errorOf(conn, type, {}, 'BAD_REQUEST');
    assert.match(f.message, /unknown/i);
  }
  const f = await rawNext(conn, JSON.stringify({ type: 'nope' }));
  assertErrorFrame(f, 'nope', 'BAD_REQUEST');
  await assertAlive(conn);
});

test('a binary frame → BAD_REQUEST "processor"', async () => {
  const f = await rawNext(conn, Buffer.from(JSON.stringify({ type: 'listLastMessage', params: {}, requestId: 'bin' })), true);
  assertErrorFrame(f, 'processor', 'BAD_REQUEST');
  assert.match(f.message, /binary/i);
  await assertAlive(conn);
});

test('params absent counts as {}: fine where nothing is required, VALIDATION naming the field otherwise', async () => {
  const list = await conn.request('listLastMessage');
  assertReply(list, 'listLastMessage');
  const cases: [string, RegExp][] = [
    ['privateMessage', /receiverId/], ['messageInGroup', /groupId/], ['getlatestMessageDialog', /receiverId/],
    ['getlatestMessageGroup', /groupId/], ['newGroup', /groupName/], ['addUserInGroup', /groupId/], ['leaveGroup', /groupId/],
  ];
  for (const [type, field] of cases) {
    await errorOf(conn, type, undefined, 'VALIDATION', field);
    await errorOf(conn, type, {}, 'VALIDATION', field);
  }
  await errorOf(conn, 'privateMessage', { receiverId: bob.id }, 'VALIDATION', /content/);
  await errorOf(conn, 'addUserInGroup', { groupId }, 'VALIDATION', /userId/);
  // params that are not an object.
  for (const params of [[], 'x', 5, null]) await errorOf(conn, 'listLastMessage', params, 'VALIDATION', /params/);
  await assertAlive(conn);
});

test('mistyped ids → VALIDATION: "12", 12.5, -1, 0, 2^31, 2^40, null, true', async () => {
  for (const bad of ['12', 12.5, -1, 0, 2 ** 31, 2 ** 40, null, true, [1], { id: 1 }, 1e308]) {
    await errorOf(conn, 'privateMessage', { receiverId: bad, content: 'x' }, 'VALIDATION', /receiverId/);
    await errorOf(conn, 'getlatestMessageDialog', { receiverId: bad }, 'VALIDATION', /receiverId/);
    await errorOf(conn, 'getlatestMessageGroup', { groupId: bad }, 'VALIDATION', /groupId/);
    await errorOf(conn, 'messageInGroup', { groupId: bad, content: 'x' }, 'VALIDATION', /groupId/);
    await errorOf(conn, 'addUserInGroup', { groupId, userId: bad }, 'VALIDATION', /userId/);
    await errorOf(conn, 'leaveGroup', { groupId: bad }, 'VALIDATION', /groupId/);
  }
  // The largest valid id passes validation and is simply not found.
  await errorOf(conn, 'privateMessage', { receiverId: 2147483647, content: 'x' }, 'NOT_FOUND');
  // Message ids go up to 2^53-1: 2^40 is fine there, 2^53 and fractions are not.
  assert.deepEqual(await ok(conn, 'getlatestMessageDialog', { receiverId: bob.id, beforeId: 2 ** 40 }), []);
  for (const bad of [2 ** 53, 1.5, '5', 0, -1]) {
    await errorOf(conn, 'getlatestMessageDialog', { receiverId: bob.id, beforeId: bad }, 'VALIDATION', /beforeId/);
    await errorOf(conn, 'getlatestMessageGroup', { groupId, afterId: bad }, 'VALIDATION', /afterId/);
  }
  await assertAlive(conn);
});

test('paging out of range → VALIDATION: page 0, limit 0, limit 1000, non-integers', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ page: 0 }, /page/], [{ page: -1 }, /page/], [{ page: 1.5 }, /page/], [{ page: '1' }, /page/],
    [{ limit: 0 }, /limit/], [{ limit: 1000 }, /limit/], [{ limit: 101 }, /limit/], [{ limit: 2.5 }, /limit/], [{ limit: '10' }, /limit/],
  ];
  for (const [p, field] of cases) {
    await errorOf(conn, 'listLastMessage', p, 'VALIDATION', field);
    await errorOf(conn, 'getlatestMessageDialog', { receiverId: bob.id, ...p }, 'VALIDATION', field);
    await errorOf(conn, 'getlatestMessageGroup', { groupId, ...p }, 'VALIDATION', field);
  }
  assertReply(await conn.request('listLastMessage', { limit: 100, page: 1 }), 'listLastMessage');
  assertReply(await conn.request('listLastMessage', { limit: 1, page: 999 }), 'listLastMessage');
  // Unknown params are ignored.
  assertReply(await conn.request('listLastMessage', { limit: 5, colour: 'blue', __proto__: { x: 1 } }), 'listLastMessage');
});

test('content length counts code points: 4096 is fine (ASCII or emoji), 4097 is VALIDATION', async () => {
  const exact = 'a'.repeat(4096);
  const sent = await ok(conn, 'privateMessage', { receiverId: bob.id, content: exact });
  assert.equal(sent.content, exact);
  const emoji = '😀'.repeat(4096); // 8192 UTF-16 units, 4096 code points
  const sentEmoji = await ok(conn, 'messageInGroup', { groupId, content: emoji });
  assert.equal(sentEmoji.content, emoji);
  const [row] = await ok(bobConn, 'getlatestMessageGroup', { groupId, limit: 1 });
  assert.equal(row.content, emoji, 'stored and read back intact');
  const [drow] = await ok(bobConn, 'getlatestMessageDialog', { receiverId: alice.id, limit: 1 });
  assert.equal(drow.content, exact);
  await errorOf(conn, 'privateMessage', { receiverId: bob.id, content: 'a'.repeat(4097) }, 'VALIDATION', /content/);
  await errorOf(conn, 'messageInGroup', { groupId, content: '😀'.repeat(4097) }, 'VALIDATION', /content/);
  await errorOf(conn, 'newGroup', { groupName: 'g'.repeat(101) }, 'VALIDATION', /groupName/);
  await assertAlive(conn);
});

test('empty, white-space-only and non-string content → VALIDATION', async () => {
  for (const content of ['', ' ', '   \n\t  ', '\u00a0\u2003\u3000', 5, null, ['x'], { text: 'x' }]) {
    await errorOf(conn, 'privateMessage', { receiverId: bob.id, content }, 'VALIDATION', /content/);
    await errorOf(conn, 'messageInGroup', { groupId, content }, 'VALIDATION', /content/);
  }
  for (const groupName of ['', '   ', 7]) await errorOf(conn, 'newGroup', { groupName }, 'VALIDATION', /groupName/);
  for (const clientMessageId of ['', 'x'.repeat(65), 12]) {
    await errorOf(conn, 'privateMessage', { receiverId: bob.id, content: 'x', clientMessageId }, 'VALIDATION', /clientMessageId/);
  }
  await assertAlive(conn);
});

test('SQL-looking content is stored and returned verbatim', async () => {
  const evil = "it's'); drop table users;--";
  const sent = await ok(conn, 'privateMessage', { receiverId: bob.id, content: evil });
  assert.equal(sent.content, evil);
  const push = await bobConn.push('privateMessage', (d) => d.id === sent.id);
  assert.equal(push.params.message, evil);
  assert.equal(push.params.data.content, evil);
  const [row] = await ok(bobConn, 'getlatestMessageDialog', { receiverId: alice.id, limit: 1 });
  assert.equal(row.content, evil);
  const g = await ok(conn, 'newGroup', { groupName: "x'); delete from groups;--" });
  assert.equal(g.groupName, "x'); delete from groups;--");
  const inGroup = await ok(conn, 'messageInGroup', { groupId, content: '$1 ${x} \\x00 %s \' " `' });
  assert.equal(inGroup.content, '$1 ${x} \\x00 %s \' " `');
  // Still there: users can sign up, Bob still reads.
  await signUp(fx.relay.http, 'Still');
  await assertAlive(bobConn);
});

test('text with a NUL character is refused as VALIDATION, and does not break other senders\' messages', async () => {
  // PostgreSQL text cannot hold U+0000: it must be refused up front, not fail the (batched) insert.
  await errorOf(conn, 'privateMessage', { receiverId: bob.id, content: 'a\u0000b' }, 'VALIDATION', /content/);
  await errorOf(conn, 'messageInGroup', { groupId, content: '\u0000x' }, 'VALIDATION', /content/);
  await errorOf(conn, 'privateMessage', { receiverId: bob.id, content: 'x', clientMessageId: 'id\u0000' }, 'VALIDATION', /clientMessageId/);
  await errorOf(conn, 'newGroup', { groupName: 'g\u0000' }, 'VALIDATION', /groupName/);
  // Sent at the same moment as a poisoned one, an innocent message from another user goes through.
  const [bad, good] = await Promise.all([
    conn.request('privateMessage', { receiverId: bob.id, content: 'poison\u0000' }),
    bobConn.request('privateMessage', { receiverId: alice.id, content: 'innocent' }),
  ]);
  assert.equal(bad.code, 'VALIDATION');
  assertReply(good, 'privateMessage');
  await assertAlive(conn);
});

test('text that is not valid Unicode (lone surrogate) is refused rather than silently altered', async () => {
  // JSON can carry "\ud800"; stored as UTF-8 it would come back as U+FFFD, not what the reply said.
  const raw = '{"type":"privateMessage","params":{"receiverId":' + bob.id + ',"content":"a\\ud800b"},"requestId":"sur"}';
  const f = await rawNext(conn, raw);
  assertErrorFrame(f, 'privateMessage', 'VALIDATION', 'sur');
  assert.match(f.message, /content/);
  await assertAlive(conn);
});

test('membership errors: FORBIDDEN with the brief\'s message, CONFLICT, NOT_FOUND', async () => {
  const x = await signUp(fx.relay.http, 'Xena');
  const x1 = await connect(x);
  const theirs = (await ok(x1, 'newGroup', { groupName: 'Private' })).groupId;
  const NOT_A_MEMBER = 'User is not a member of this group';
  await errorOf(conn, 'getlatestMessageGroup', { groupId: theirs }, 'FORBIDDEN', NOT_A_MEMBER);
  await errorOf(conn, 'getlatestMessageGroup', { groupId: 2147483647 }, 'FORBIDDEN', NOT_A_MEMBER);
  await errorOf(conn, 'messageInGroup', { groupId: theirs, content: 'hi' }, 'FORBIDDEN', NOT_A_MEMBER);
  await errorOf(conn, 'addUserInGroup', { groupId: theirs, userId: bob.id }, 'FORBIDDEN', NOT_A_MEMBER);
  await errorOf(conn, 'addUserInGroup', { groupId: theirs, userId: alice.id }, 'FORBIDDEN', NOT_A_MEMBER);
  await errorOf(conn, 'leaveGroup', { groupId: theirs }, 'FORBIDDEN', NOT_A_MEMBER);
  await errorOf(conn, 'addUserInGroup', { groupId, userId: bob.id }, 'CONFLICT', /already a member/i);
  await errorOf(conn, 'addUserInGroup', { groupId, userId: 2147483000 }, 'NOT_FOUND', /not found/i);
  // X's group is untouched: X is still its only member and nobody got a push.
  await settle([x1]);
  assert.equal(x1.pushes().length, 0);
  assert.deepEqual(await ok(x1, 'getlatestMessageGroup', { groupId: theirs }), []);
  await assertAlive(conn);
});

test('deep nesting and prototype tricks are handled like any other bad input', async () => {
  const deep = '['.repeat(30_000) + ']'.repeat(30_000);
  assertErrorFrame(await rawNext(conn, deep), 'processor', 'BAD_REQUEST');
  const deepParams = `{"type":"listLastMessage","params":{"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}},"requestId":"deep"}`;
  assertReply(await rawNext(conn, deepParams), 'listLastMessage');
  // "__proto__" from JSON.parse is an own key, not a prototype: receiverId is still missing.
  const proto = `{"type":"privateMessage","params":{"__proto__":{"receiverId":${bob.id},"content":"x"}},"requestId":"proto"}`;
  const f = await rawNext(conn, proto);
  assertErrorFrame(f, 'privateMessage', 'VALIDATION', 'proto');
  assert.match(f.message, /receiverId/);
  const proto2 = `{"__proto__":{"type":"listLastMessage"},"requestId":"proto2"}`;
  assertErrorFrame(await rawNext(conn, proto2), 'processor', 'BAD_REQUEST', 'proto2');
  await assertAlive(conn);
});

test('a burst of bad requests does not stop the connection from serving', async () => {
  const c = await connect(alice);
  const start = c.frames.length;
  const raws = ['nope', '[]', JSON.stringify({ type: 'x' }), JSON.stringify({ type: 'privateMessage', params: { receiverId: '1' } })];
  for (let i = 0; i < 40; i++) c.sendRaw(raws[i % raws.length]!);
  await c.wait(() => c.frames.length - start >= 40, 5000, '40 answers');
  assert.ok(c.frames.slice(start).every((f) => f.error === true));
  await assertAlive(c);
});

test('frames up to 64 KiB are served; a frame over 64 KiB closes the connection with 1009', async () => {
  const c = await connect(alice);
  const frameOf = (bytes: number): string => {
    const base = JSON.stringify({ type: 'listLastMessage', params: {}, requestId: 'big', pad: '' });
    return JSON.stringify({ type: 'listLastMessage', params: {}, requestId: 'big', pad: 'x'.repeat(bytes - base.length) });
  };
  const max = frameOf(64 * 1024);
  assert.equal(Buffer.byteLength(max), 65536);
  const f = await rawNext(c, max);
  assert.equal(f.requestId, 'big');
  assert.equal(f.success, true, 'a 64 KiB frame is still a request (unknown "pad" ignored)');
  c.sendRaw(frameOf(64 * 1024 + 1));
  const code = await Promise.race([c.closed, sleep(3000).then(() => 'still open')]);
  assert.equal(code, 1009);
  // Other connections of the user are unaffected.
  await assertAlive(conn);
});

// v1.2 "Reactions": addReaction / removeReaction replies ({messageId, seq, senderId, receiverId,
// groupId, reactions} with `me` relative to the caller), pushes ({..., userId, emoji, count}, encoded
// once for everyone), first-appearance order, one emoji per user and message, the 20-emoji cap,
// reactions in history rows, deletion removing them. On a broker run (.redis, .redis-cluster twins)
// pushes are also checked on a socket of a second node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp } from './helpers/client.js';
import { ok, okLoose, assertPush, errorOf, assertNoPush, count } from './helpers/protocol.js';
import { useTwoNodes } from './helpers/nodes.js';

const ENV = { AUTH_RATE_PER_MINUTE: '100000', WS_RATE_PER_SECOND: '100000', WS_RATE_BURST: '100000' };
const { fx, connect, onOther, store } = useTwoNodes('ws_reactions', ENV);

const STATE_KEYS = ['groupId', 'messageId', 'reactions', 'receiverId', 'senderId', 'seq'];
const PUSH_KEYS = ['count', 'emoji', 'groupId', 'messageId', 'receiverId', 'senderId', 'seq', 'userId'];

async function trio(label: string) {
  const [a, b, c] = await Promise.all(['Amy', 'Bo', 'Cy'].map((n) => signUp(fx.relay.http, `${n}${label}`)));
  const a1 = await connect(a!);
  const a2 = await onOther(a!);
  const b1 = await onOther(b!);
  const c1 = await connect(c!);
  const g = await ok(a1, 'newGroup', { groupName: `R ${label}` });
  for (const u of [b!, c!]) await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: u.id });
  return { a: a!, b: b!, c: c!, a1, a2, b1, c1, groupId: g.groupId as number };
}

test('addReaction / removeReaction: replies with `me` for the caller, pushes with userId and count to everyone else, history rows', async () => {
  const { a, b, c, a1, a2, b1, c1, groupId } = await trio('1');
  const m = await ok(c1, 'messageInGroup', { groupId, content: 'react to me' });
  const ref = { messageId: m.id, seq: m.seq, senderId: c.id, receiverId: null, groupId };

  const r1 = await ok(a1, 'addReaction', { messageId: m.id, emoji: '👍' });
  assert.deepEqual(Object.keys(r1).sort(), STATE_KEYS);
  assert.deepEqual(r1, { ...ref, reactions: [{ emoji: '👍', count: 1, me: true }] });
  for (const conn of [a2, b1, c1]) {
    const d = assertPush(await conn.push('addReaction', (x) => x.messageId === m.id), 'addReaction', null, `Amy1`);
    assert.deepEqual(Object.keys(d).sort(), PUSH_KEYS);
    assert.deepEqual(d, { ...ref, userId: a.id, emoji: '👍', count: 1 });
  }
  await assertNoPush(a1, 'addReaction', () => true, 'the reacting connection');

  const r2 = await ok(b1, 'addReaction', { messageId: m.id, emoji: '👍' });
  assert.deepEqual(r2.reactions, [{ emoji: '👍', count: 2, me: true }]);
  const r3 = await ok(b1, 'addReaction', { messageId: m.id, emoji: '🎉' });
  assert.deepEqual(r3.reactions, [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 1, me: true }]);
  await a1.push('addReaction', (x) => x.emoji === '🎉' && x.userId === b.id && x.count === 1);

  // The stored read form (007) is ASCII JSON text (emoji as \u escapes), the same list with `me` false.
  const [view] = await store()<{ v: string }[]>`select reactions_view::text as v from messages where id = ${m.id}`;
  assert.match(view!.v, /^[\x20-\x7e]+$/);
  assert.match(view!.v, /\\ud83d\\udc4d/);
  assert.deepEqual(JSON.parse(view!.v), [{ emoji: '👍', count: 2, me: false }, { emoji: '🎉', count: 1, me: false }]);

  // Each reader sees its own `me`.
  const rowFor = async (conn: typeof a1) => (await ok(conn, 'getlatestMessageGroup', { groupId, limit: 1 }))[0].reactions;
  assert.deepEqual(await rowFor(a1), [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 1, me: false }]);
  assert.deepEqual(await rowFor(c1), [{ emoji: '👍', count: 2, me: false }, { emoji: '🎉', count: 1, me: false }]);
  assert.deepEqual((await ok(c1, 'getlatestMessageGroup', { groupId, beforeId: m.id + 1 }))[0].reactions, await rowFor(c1), 'cursor reads too');

  // Holding it already / not holding it: the current state, no push.
  const pushesBefore = count(c1, 'addReaction', () => true) + count(c1, 'removeReaction', () => true);
  assert.deepEqual((await ok(a1, 'addReaction', { messageId: m.id, emoji: '👍' })).reactions, [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 1, me: false }]);
  assert.deepEqual((await ok(a1, 'removeReaction', { messageId: m.id, emoji: '🎉' })).reactions, [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 1, me: false }]);
  assert.deepEqual((await ok(c1, 'removeReaction', { messageId: m.id, emoji: '🙈' })).reactions, [{ emoji: '👍', count: 2, me: false }, { emoji: '🎉', count: 1, me: false }]);
  await c1.marker();
  await b1.marker();
  assert.equal(count(c1, 'addReaction', () => true) + count(c1, 'removeReaction', () => true), pushesBefore, 'nothing pushed');

  // Removing: the count falls; at 0 the emoji is gone, and comes back last when added again.
  const rm = await ok(a1, 'removeReaction', { messageId: m.id, emoji: '👍' });
  assert.deepEqual(rm.reactions, [{ emoji: '👍', count: 1, me: false }, { emoji: '🎉', count: 1, me: false }]);
  assert.deepEqual(assertPush(await c1.push('removeReaction', (x) => x.messageId === m.id), 'removeReaction', null, 'Amy1'),
    { ...ref, userId: a.id, emoji: '👍', count: 1 });
  await ok(b1, 'removeReaction', { messageId: m.id, emoji: '👍' });
  await c1.push('removeReaction', (x) => x.emoji === '👍' && x.count === 0);
  const back = await ok(c1, 'addReaction', { messageId: m.id, emoji: '👍' });
  assert.deepEqual(back.reactions, [{ emoji: '🎉', count: 1, me: false }, { emoji: '👍', count: 1, me: true }]);
  await ok(b1, 'removeReaction', { messageId: m.id, emoji: '🎉' });
  await ok(c1, 'removeReaction', { messageId: m.id, emoji: '👍' });
  assert.deepEqual(await rowFor(a1), [], 'none left: []');
  const [stored] = await store()<{ n: number }[]>`select num_nonnulls(reactions, reactions_view, reactors) as n from messages where id = ${m.id}`;
  assert.equal(stored!.n, 0, 'the list and its read forms are gone');
});

test('dialogs: both sides react; pushes to both sides\' other connections; a note to oneself', async () => {
  const a = await signUp(fx.relay.http, 'Dot');
  const b = await signUp(fx.relay.http, 'Eli');
  const a1 = await connect(a);
  const a2 = await onOther(a);
  const b1 = await onOther(b);
  const b2 = await connect(b);
  const m = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'hey' });
  const r = await ok(b1, 'addReaction', { messageId: m.id, emoji: '❤️' });
  assert.deepEqual(r, { messageId: m.id, seq: 1, senderId: a.id, receiverId: b.id, groupId: null, reactions: [{ emoji: '❤️', count: 1, me: true }] });
  for (const conn of [a1, a2, b2]) {
    assert.deepEqual(assertPush(await conn.push('addReaction', (x) => x.messageId === m.id), 'addReaction', null, 'Eli'),
      { messageId: m.id, seq: 1, senderId: a.id, receiverId: b.id, groupId: null, userId: b.id, emoji: '❤️', count: 1 });
  }
  const [row] = await ok(a1, 'getlatestMessageDialog', { receiverId: b.id });
  assert.deepEqual(row.reactions, [{ emoji: '❤️', count: 1, me: false }]);
  const [rowB] = await ok(b2, 'getlatestMessageDialog', { receiverId: a.id, beforeId: m.id + 1 });
  assert.deepEqual(rowB.reactions, [{ emoji: '❤️', count: 1, me: true }]);

  const note = await ok(a1, 'privateMessage', { receiverId: a.id, content: 'note' });
  await ok(a1, 'addReaction', { messageId: note.id, emoji: '📌' });
  await a2.push('addReaction', (x) => x.messageId === note.id);
  await a2.marker();
  assert.equal(count(a2, 'addReaction', (x) => x.messageId === note.id), 1, 'a note to oneself is pushed once');
});

test('errors: emoji checked (1..16 code points, no white space or control characters); unknown, deleted, outside NOT_FOUND', async () => {
  const { a, b, a1, b1, c1, groupId } = await trio('2');
  const m = await ok(a1, 'messageInGroup', { groupId, content: 'x' });
  for (const emoji of ['', ' ', 'a b', '👍\n', '\t', '\u0007', 'x'.repeat(17), '😀'.repeat(17), 5, null, ['👍'], '\u0000']) {
    await errorOf(a1, 'addReaction', { messageId: m.id, emoji }, 'VALIDATION');
    await errorOf(a1, 'removeReaction', { messageId: m.id, emoji }, 'VALIDATION');
  }
  for (const params of [{ emoji: '👍' }, { messageId: '1', emoji: '👍' }, { messageId: 0, emoji: '👍' }, {}]) {
    await errorOf(a1, 'addReaction', params, 'VALIDATION');
  }
  // Anything a client shows is taken: 16 code points, words, a flag (two code points), a ZWJ family.
  for (const emoji of ['😀'.repeat(16), 'lol', '🇫🇷', '👨‍👩‍👧‍👦', '+1']) await ok(a1, 'addReaction', { messageId: m.id, emoji });

  const outsider = await signUp(fx.relay.http, 'Out');
  const o1 = await connect(outsider);
  await errorOf(o1, 'addReaction', { messageId: m.id, emoji: '👍' }, 'NOT_FOUND');
  await errorOf(a1, 'addReaction', { messageId: 2 ** 40, emoji: '👍' }, 'NOT_FOUND');
  const dm = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'private' });
  await errorOf(c1, 'addReaction', { messageId: dm.id, emoji: '👍' }, 'NOT_FOUND');
  await ok(b1, 'leaveGroup', { groupId });
  await errorOf(b1, 'addReaction', { messageId: m.id, emoji: '👍' }, 'NOT_FOUND');
  await errorOf(b1, 'removeReaction', { messageId: m.id, emoji: 'lol' }, 'NOT_FOUND');
  assert.equal(a.id > 0, true);
});

test('at most 20 distinct emoji per message: a 21st is CONFLICT; more holders of existing ones are fine', async () => {
  const { a1, b1, c1, groupId } = await trio('3');
  const m = await ok(a1, 'messageInGroup', { groupId, content: 'many' });
  const emoji = Array.from({ length: 20 }, (_, i) => String.fromCodePoint(0x1f600 + i));
  for (const e of emoji) await ok(a1, 'addReaction', { messageId: m.id, emoji: e });
  const e = await errorOf(b1, 'addReaction', { messageId: m.id, emoji: '🦄' }, 'CONFLICT');
  assert.match(e.message, /20/);
  await assertNoPush(c1, 'addReaction', (x) => x.emoji === '🦄', 'a refused reaction');
  const more = await ok(b1, 'addReaction', { messageId: m.id, emoji: emoji[5] });
  assert.equal(more.reactions.length, 20);
  assert.deepEqual(more.reactions.map((r: any) => r.emoji), emoji, 'first-appearance order');
  assert.deepEqual(more.reactions[5], { emoji: emoji[5], count: 2, me: true });
  // One gone frees a place.
  await ok(a1, 'removeReaction', { messageId: m.id, emoji: emoji[0] });
  const now = await ok(b1, 'addReaction', { messageId: m.id, emoji: '🦄' });
  assert.equal(now.reactions.at(-1).emoji, '🦄');
});

test('deleting a message removes its reactions; a deleted message takes none', async () => {
  const { a1, b1, c1, groupId } = await trio('4');
  const m = await ok(a1, 'messageInGroup', { groupId, content: 'to go' });
  await ok(b1, 'addReaction', { messageId: m.id, emoji: '👍' });
  await ok(c1, 'addReaction', { messageId: m.id, emoji: '😮' });
  await ok(a1, 'deleteMessage', { messageId: m.id });
  const [row] = await ok(b1, 'getlatestMessageGroup', { groupId, limit: 1 });
  assert.deepEqual([row.id, row.content, row.reactions], [m.id, '', []]);
  const [stored] = await store()<{ n: number }[]>`select num_nonnulls(reactions, reactions_view, reactors) as n from messages where id = ${m.id}`;
  assert.equal(stored!.n, 0, 'gone from the store');
  await errorOf(b1, 'addReaction', { messageId: m.id, emoji: '👍' }, 'NOT_FOUND');
  await errorOf(b1, 'removeReaction', { messageId: m.id, emoji: '👍' }, 'NOT_FOUND');
});

test('concurrent reactions on one message from two nodes: none lost', async () => {
  const users = await Promise.all(Array.from({ length: 8 }, (_, i) => signUp(fx.relay.http, `Cc${i}`)));
  const socks = await Promise.all(users.map((u, i) => (i % 2 === 0 ? connect(u) : onOther(u))));
  const g = await okLoose(socks[0]!, 'newGroup', { groupName: 'Race' });
  for (const u of users.slice(1)) await okLoose(socks[0]!, 'addUserInGroup', { groupId: g.groupId, userId: u.id });
  const m = await okLoose(socks[0]!, 'messageInGroup', { groupId: g.groupId, content: 'race' });
  await Promise.all(socks.flatMap((c) => ['👍', '🔥', '👀'].map((emoji) => okLoose(c, 'addReaction', { messageId: m.id, emoji }))));
  const [row] = await ok(socks[1]!, 'getlatestMessageGroup', { groupId: g.groupId, limit: 1 });
  assert.deepEqual(row.reactions.map((r: any) => [r.count, r.me]), [[8, true], [8, true], [8, true]]);
  await Promise.all(socks.map((c) => okLoose(c, 'removeReaction', { messageId: m.id, emoji: '🔥' })));
  const [after1] = await ok(socks[2]!, 'getlatestMessageGroup', { groupId: g.groupId, limit: 1 });
  assert.deepEqual(after1.reactions.map((r: any) => [r.emoji, r.count]), [['👍', 8], ['👀', 8]]);
});

// v1.2 "Replies and mentions": replyToId on both sends, replyTo on every message row (send replies,
// pushes, edit replies and pushes, both histories), mentions on group messages (current members
// only, ascending, deduplicated, at most 50), mentionCount in the chat list. On a broker run
// (.redis, .redis-cluster twins) the pushes are also checked on a socket of a second node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp } from './helpers/client.js';
import { ok, okLoose, assertPush, errorOf, assertNoPush, assertIsoDate } from './helpers/protocol.js';
import { useTwoNodes } from './helpers/nodes.js';

const ENV = { AUTH_RATE_PER_MINUTE: '100000' };
const { fx, connect, onOther, store } = useTwoNodes('ws_replies', ENV);

const REPLY_KEYS = ['content', 'deletedAt', 'id', 'senderId', 'senderName', 'seq'];

async function chatRow(c: Awaited<ReturnType<typeof connect>>, match: (r: any) => boolean): Promise<any> {
  const rows = await ok(c, 'listLastMessage', { limit: 100 });
  const row = rows.find(match);
  assert.ok(row, 'the conversation is in the chat list');
  return row;
}

test('privateMessage replyToId: replyTo in the reply, both sides\' pushes and the history; first 100 code points; mentions []', async () => {
  const a = await signUp(fx.relay.http, 'Ada');
  const b = await signUp(fx.relay.http, 'Ben');
  const a1 = await connect(a);
  const a2 = await onOther(a);
  const b1 = await onOther(b);
  // 120 code points, most of them outside the BMP (two UTF-16 units each).
  const long = '😀'.repeat(90) + 'abcdefghij'.repeat(3);
  const original = await ok(b1, 'privateMessage', { receiverId: a.id, content: long });
  const reply = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'answer', replyToId: original.id });
  assert.deepEqual(Object.keys(reply.replyTo).sort(), REPLY_KEYS);
  const expected = { id: original.id, seq: 1, senderId: b.id, senderName: 'Ben', content: '😀'.repeat(90) + 'abcdefghij', deletedAt: null };
  assert.deepEqual(reply.replyTo, expected);
  assert.deepEqual(reply.mentions, [], 'dialogs have no mentions');
  assert.equal(reply.seq, 2);
  for (const c of [a2, b1]) {
    assert.deepEqual(assertPush(await c.push('privateMessage', (d) => d.id === reply.id), 'privateMessage', 'answer', 'Ada'), reply);
  }
  await assertNoPush(a1, 'privateMessage', (d) => d.id === reply.id, 'the sending connection');

  const [newest, first] = await ok(b1, 'getlatestMessageDialog', { receiverId: a.id });
  assert.deepEqual([newest.id, newest.replyTo, newest.mentions], [reply.id, expected, []]);
  assert.deepEqual([first.id, first.replyTo, first.mentions], [original.id, null, []]);
  // The cursor read builds the same rows.
  const [again] = await ok(b1, 'getlatestMessageDialog', { receiverId: a.id, afterId: original.id });
  assert.deepEqual(again, newest);

  // A retry with the same clientMessageId gets the first message back, replyTo included.
  const once = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'dup', replyToId: original.id, clientMessageId: 'rep-1' });
  assert.deepEqual(await ok(a1, 'privateMessage', { receiverId: b.id, content: 'dup', replyToId: original.id, clientMessageId: 'rep-1' }), once);
  assert.deepEqual(once.replyTo, expected);
});

test('replyTo shows the replied-to message as it is now: edited content, current name, "" and deletedAt once deleted; edits keep it', async () => {
  const a = await signUp(fx.relay.http, 'Cal');
  const b = await signUp(fx.relay.http, 'Dee');
  const a1 = await connect(a);
  const b1 = await onOther(b);
  const g = await ok(a1, 'newGroup', { groupName: 'Now' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const m = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'first words' });
  const r = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'reply', replyToId: m.id });
  assert.deepEqual(r.replyTo, { id: m.id, seq: 1, senderId: a.id, senderName: 'Cal', content: 'first words', deletedAt: null });
  const pushed = assertPush(await a1.push('messageInGroup', (d) => d.id === r.id), 'messageInGroup', 'reply', 'Dee');
  assert.deepEqual(pushed, { ...r, groupName: 'Now' });

  await ok(a1, 'editMessage', { messageId: m.id, content: 'better words' });
  const res = await fetch(`${fx.relay.http}/profile`, {
    method: 'PATCH', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ firstName: 'Calla' }),
  });
  assert.equal(res.status, 200);
  let [row] = await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId, limit: 1 });
  assert.deepEqual(row.replyTo, { id: m.id, seq: 1, senderId: a.id, senderName: 'Calla', content: 'better words', deletedAt: null });

  // Editing the reply keeps its replyTo (and mentions): reply and push show them.
  const edited = await ok(b1, 'editMessage', { messageId: r.id, content: 'reply, edited' });
  assert.deepEqual([edited.replyTo, edited.mentions], [row.replyTo, []]);
  assert.deepEqual(assertPush(await a1.push('editMessage', (d) => d.id === r.id), 'editMessage', 'reply, edited', 'Dee'), edited);

  const del = await ok(a1, 'deleteMessage', { messageId: m.id });
  [row] = await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId, limit: 1 });
  assert.deepEqual(row.replyTo, { id: m.id, seq: 1, senderId: a.id, senderName: 'Calla', content: '', deletedAt: del.deletedAt });
  assertIsoDate(row.replyTo.deletedAt, 'replyTo.deletedAt');
  [row] = await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId, beforeId: 2 ** 40, limit: 1 });
  assert.equal(row.replyTo.deletedAt, del.deletedAt, 'the cursor read too');
});

test('replyToId errors: deleted, unknown, another conversation NOT_FOUND; not a member FORBIDDEN; not an id VALIDATION; nothing stored', async () => {
  const a = await signUp(fx.relay.http, 'Eve');
  const b = await signUp(fx.relay.http, 'Fox');
  const c = await signUp(fx.relay.http, 'Gus');
  const a1 = await connect(a);
  const c1 = await connect(c);
  const g = await ok(a1, 'newGroup', { groupName: 'Errs' });
  const other = await ok(a1, 'newGroup', { groupName: 'Other' });
  const inOther = await ok(a1, 'messageInGroup', { groupId: other.groupId, content: 'elsewhere' });
  const dm = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'dm' });
  const dmC = await ok(c1, 'privateMessage', { receiverId: a.id, content: 'dm with c' });
  const gone = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'gone' });
  await ok(a1, 'deleteMessage', { messageId: gone.id });
  const [{ n: before }] = await store()<[{ n: number }]>`select count(*)::int as n from messages`;

  for (const replyToId of [gone.id, inOther.id, dm.id, 2 ** 40]) {
    const e = await errorOf(a1, 'messageInGroup', { groupId: g.groupId, content: 'x', replyToId }, 'NOT_FOUND');
    assert.match(e.message, /replied to/);
  }
  for (const replyToId of [inOther.id, dmC.id, 2 ** 40]) await errorOf(a1, 'privateMessage', { receiverId: b.id, content: 'x', replyToId }, 'NOT_FOUND');
  const deletedDm = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'to delete' });
  await ok(a1, 'deleteMessage', { messageId: deletedDm.id });
  await errorOf(a1, 'privateMessage', { receiverId: b.id, content: 'x', replyToId: deletedDm.id }, 'NOT_FOUND');
  // Not a member: FORBIDDEN, as without a reply.
  await errorOf(c1, 'messageInGroup', { groupId: g.groupId, content: 'x', replyToId: gone.id }, 'FORBIDDEN');
  // An unknown receiver stays NOT_FOUND with the v1 message.
  const unknown = await errorOf(a1, 'privateMessage', { receiverId: 2 ** 31 - 1, content: 'x', replyToId: dm.id }, 'NOT_FOUND');
  assert.match(unknown.message, /User not found/);
  for (const replyToId of ['1', 0, -3, 1.5, 2 ** 53, null, {}]) {
    await errorOf(a1, 'messageInGroup', { groupId: g.groupId, content: 'x', replyToId }, 'VALIDATION');
    await errorOf(a1, 'privateMessage', { receiverId: b.id, content: 'x', replyToId }, 'VALIDATION');
  }
  const [{ n: after1 }] = await store()<[{ n: number }]>`select count(*)::int as n from messages`;
  assert.equal(after1, before + 1, 'only the message deleted on purpose was stored');
  // The group's seq did not move past a refused reply.
  assert.equal((await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'next' })).seq, 2);
});

test('mentions: current members only, ascending, each once; >50 distinct or not ids VALIDATION; pushes, history, edits', async () => {
  const [a, b, c, d, gone] = await Promise.all(['Hal', 'Ivy', 'Jon', 'Kim', 'Lou'].map((n) => signUp(fx.relay.http, n)));
  const a1 = await connect(a!);
  const b1 = await onOther(b!);
  const g = await ok(a1, 'newGroup', { groupName: 'Mentions' });
  for (const u of [b!, c!, gone!]) await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: u.id });
  const gone1 = await connect(gone!);
  await ok(gone1, 'leaveGroup', { groupId: g.groupId });

  // d is no member, gone left, 2^31-1 is nobody: dropped; repeats count once; a self-mention stays.
  const asked = [c!.id, d!.id, b!.id, c!.id, gone!.id, 2 ** 31 - 1, a!.id, b!.id];
  const m = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'hi @Ivy @Jon', mentions: asked });
  assert.deepEqual(m.mentions, [a!.id, b!.id, c!.id].sort((x, y) => x - y));
  assert.equal(m.replyTo, null);
  assert.deepEqual(assertPush(await b1.push('messageInGroup', (x) => x.id === m.id), 'messageInGroup', 'hi @Ivy @Jon', 'Hal'), { ...m, groupName: 'Mentions' });
  const [row] = await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId, limit: 1 });
  assert.deepEqual(row.mentions, m.mentions);
  const edited = await ok(a1, 'editMessage', { messageId: m.id, content: 'hello @Ivy @Jon' });
  assert.deepEqual(edited.mentions, m.mentions, 'editing keeps them');
  assert.deepEqual((await b1.push('editMessage', (x) => x.id === m.id)).params.data.mentions, m.mentions);

  const none = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'nobody', mentions: [d!.id] });
  assert.deepEqual(none.mentions, []);
  assert.deepEqual((await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'empty list', mentions: [] })).mentions, []);

  // 50 distinct (with repeats: 60 entries) is fine; 51 distinct is not.
  const fifty = Array.from({ length: 50 }, (_, i) => i + 1);
  await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'fifty', mentions: [...fifty, ...fifty.slice(0, 10)] });
  for (const mentions of [[...fifty, 51], [1.5], ['1'], [0], [2 ** 31], 5, 'x', [null], {}]) {
    await errorOf(a1, 'messageInGroup', { groupId: g.groupId, content: 'bad', mentions }, 'VALIDATION');
  }
  // privateMessage ignores mentions (an unknown param for it).
  assert.deepEqual((await ok(a1, 'privateMessage', { receiverId: b!.id, content: 'dm', mentions: [b!.id] })).mentions, []);
});

test('mentionCount: mentions of the caller after its marker, not deleted; markRead and deletes bring it down; O(1) state', async () => {
  const [a, b, c] = await Promise.all(['Max', 'Ned', 'Oda'].map((n) => signUp(fx.relay.http, n)));
  const a1 = await connect(a!);
  const b1 = await connect(b!);
  const c1 = await connect(c!);
  const g = await ok(a1, 'newGroup', { groupName: 'Count' });
  for (const u of [b!, c!]) await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: u.id });
  const before = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'before', mentions: [b!.id] });
  // b reads up to it: that mention is no longer unread.
  await ok(b1, 'markRead', { groupId: g.groupId, messageId: before.id });

  const m1 = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: '@Ned 1', mentions: [b!.id] });
  await ok(c1, 'messageInGroup', { groupId: g.groupId, content: 'no mention' });
  const m2 = await ok(c1, 'messageInGroup', { groupId: g.groupId, content: '@Ned @Max 2', mentions: [b!.id, a!.id] });
  const m3 = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: '@Ned 3', mentions: [b!.id, b!.id] });
  // A self-mention never counts: sending moves the sender's own marker past it.
  await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'me @Ned', mentions: [b!.id] });
  await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'tail' });

  let row = await chatRow(b1, (r) => r.groupId === g.groupId);
  // b sent "me @Ned" after m3, so its marker is there: nothing unread... but a sent 'tail' after.
  assert.deepEqual([row.unreadCount, row.mentionCount], [1, 0]);

  // A fresh reader with its marker before the mentions.
  await store()`update group_members set last_read_id = ${before.id}, last_read_seq = 1 where group_id = ${g.groupId} and user_id = ${b!.id}`;
  row = await chatRow(b1, (r) => r.groupId === g.groupId);
  assert.deepEqual([row.unreadCount, row.mentionCount], [6, 3]);
  assert.equal((await chatRow(a1, (r) => r.groupId === g.groupId)).mentionCount, 0, 'a read m2 by sending after it');
  assert.equal((await chatRow(c1, (r) => r.groupId === g.groupId)).mentionCount, 0);

  await ok(b1, 'markRead', { groupId: g.groupId, messageId: m1.id });
  assert.equal((await chatRow(b1, (r) => r.groupId === g.groupId)).mentionCount, 2);
  await ok(a1, 'deleteMessage', { messageId: m3.id });
  assert.equal((await chatRow(b1, (r) => r.groupId === g.groupId)).mentionCount, 1, 'a deleted mention does not count');
  await ok(b1, 'markRead', { groupId: g.groupId, messageId: m2.id });
  assert.equal((await chatRow(b1, (r) => r.groupId === g.groupId)).mentionCount, 0);

  // Dialogs never count mentions.
  await ok(a1, 'privateMessage', { receiverId: b!.id, content: '@Ned in a dialog' });
  assert.equal((await chatRow(b1, (r) => r.receiverId === b!.id || r.senderId === a!.id && r.groupId === null)).mentionCount, 0);

  // The count is kept beside the marker: a member's unread mentions are in its row, pruned as it reads.
  const [state] = await store()<{ seqs: string[] | null }[]>`
    select mention_seqs::text[] as seqs from group_members where group_id = ${g.groupId} and user_id = ${b!.id}`;
  assert.ok((state!.seqs ?? []).length <= 3);
});

test('many senders mentioning one member at once: every mention counted exactly', async () => {
  const users = await Promise.all(['Pia', 'Quy', 'Ray', 'Sol', 'Tam'].map((n) => signUp(fx.relay.http, n)));
  const socks = await Promise.all(users.map((u, i) => (i % 2 === 0 ? connect(u) : onOther(u))));
  const g = await okLoose(socks[0]!, 'newGroup', { groupName: 'Crowd' });
  for (const u of users.slice(1)) await okLoose(socks[0]!, 'addUserInGroup', { groupId: g.groupId, userId: u.id });
  const target = users[4]!;
  await Promise.all(socks.slice(0, 4).map((c) =>
    Promise.all(Array.from({ length: 10 }, (_, i) => okLoose(c, 'messageInGroup', { groupId: g.groupId, content: `@Tam ${i}`, mentions: [target.id] })))));
  const row = await chatRow(socks[4]!, (r) => r.groupId === g.groupId);
  assert.deepEqual([row.unreadCount, row.mentionCount], [40, 40]);
});

// listLastMessage: one row per conversation with its latest message, most recent activity first,
// exact row shapes for dialogs, groups and empty groups, and paging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp, sleep, type Client } from './helpers/client.js';
import { useRelay, ok } from './helpers/protocol.js';

const fx = useRelay('ws_chatlist', { AUTH_RATE_PER_MINUTE: '100000' });
const { connect } = fx;

// v1's fields plus v1.1's seq, unreadCount, lastReadId and peerLastReadId, and v1.2's attachmentName, blocked, mentionCount, muted, mutedUntil.
const ROW_KEYS = ['attachmentName', 'blocked', 'content', 'createdAt', 'deletedAt', 'groupId', 'groupName', 'id', 'lastReadId', 'mentionCount', 'muted', 'mutedUntil', 'peerLastReadId', 'receiverId', 'receiverName', 'senderId', 'senderName', 'seq', 'unreadCount', 'updatedAt'];

async function list(c: Client, params: Record<string, unknown> = {}): Promise<any[]> {
  const rows = await ok(c, 'listLastMessage', params);
  assert.ok(Array.isArray(rows));
  for (const r of rows) assert.deepEqual(Object.keys(r).sort(), ROW_KEYS, `row shape: ${JSON.stringify(r)}`);
  return rows;
}

/** A conversation's key: `d<peer>` or `g<groupId>`. */
const key = (me: number) => (r: any): string =>
  r.groupId !== null ? `g${r.groupId}` : `d${r.senderId === me ? r.receiverId : r.senderId}`;

// created_at is the commit's clock, so consecutive steps a few ms apart keep a strict order.
const tick = () => sleep(5);

test('one row per conversation, newest activity first, with the exact row shapes', async () => {
  const a = await signUp(fx.relay.http, 'Lina');
  const b = await signUp(fx.relay.http, 'Max');
  const c = await signUp(fx.relay.http, 'Nia');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const c1 = await connect(c);

  const ab = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'ab1' });
  await tick();
  const ca = await ok(c1, 'privateMessage', { receiverId: a.id, content: 'ca1' });
  await tick();
  const g = await ok(a1, 'newGroup', { groupName: 'Chat' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const gm = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'g1' });
  await tick();
  const empty = await ok(a1, 'newGroup', { groupName: 'Empty' });

  let rows = await list(a1);
  assert.deepEqual(rows.map(key(a.id)), [`g${empty.groupId}`, `g${g.groupId}`, `d${c.id}`, `d${b.id}`]);
  const [emptyRow, groupRow, cRow, bRow] = rows;
  assert.deepEqual(emptyRow, {
    id: null, senderId: null, senderName: null, receiverId: null, receiverName: null,
    groupId: empty.groupId, groupName: 'Empty', content: null, createdAt: empty.createdAt, updatedAt: null, deletedAt: null,
    seq: null, unreadCount: 0, lastReadId: null, peerLastReadId: null, blocked: false, mentionCount: 0, muted: false, mutedUntil: null, attachmentName: null,
  }, 'an empty group: message fields null, createdAt = when the caller joined');
  assert.deepEqual(groupRow, {
    id: gm.id, senderId: b.id, senderName: 'Max', receiverId: null, receiverName: null,
    groupId: g.groupId, groupName: 'Chat', content: 'g1', createdAt: gm.createdAt, updatedAt: groupRow.updatedAt, deletedAt: null,
    seq: 1, unreadCount: 1, lastReadId: null, peerLastReadId: null, blocked: false, mentionCount: 0, muted: false, mutedUntil: null, attachmentName: null,
  });
  assert.deepEqual(cRow, {
    id: ca.id, senderId: c.id, senderName: 'Nia', receiverId: a.id, receiverName: 'Lina',
    groupId: null, groupName: null, content: 'ca1', createdAt: ca.createdAt, updatedAt: cRow.updatedAt, deletedAt: null,
    seq: 1, unreadCount: 1, lastReadId: null, peerLastReadId: ca.id, blocked: false, mentionCount: 0, muted: false, mutedUntil: null, attachmentName: null,
  });
  assert.deepEqual(bRow, {
    id: ab.id, senderId: a.id, senderName: 'Lina', receiverId: b.id, receiverName: 'Max',
    groupId: null, groupName: null, content: 'ab1', createdAt: ab.createdAt, updatedAt: bRow.updatedAt, deletedAt: null,
    seq: 1, unreadCount: 0, lastReadId: ab.id, peerLastReadId: null, blocked: false, mentionCount: 0, muted: false, mutedUntil: null, attachmentName: null,
  });
  for (const r of [groupRow, cRow, bRow]) assert.match(r.updatedAt, /^\d{4}-\d\d-\d\dT.*Z$/);

  // B answers: that dialog moves to the top, still once, now with B's message.
  await tick();
  const ba = await ok(b1, 'privateMessage', { receiverId: a.id, content: 'ba2' });
  rows = await list(a1);
  assert.deepEqual(rows.map(key(a.id)), [`d${b.id}`, `g${empty.groupId}`, `g${g.groupId}`, `d${c.id}`]);
  assert.equal(rows[0].id, ba.id);
  assert.equal(rows[0].senderId, b.id);
  assert.equal(rows[0].receiverId, a.id);
  assert.equal(rows[0].senderName, 'Max');
  assert.equal(rows[0].receiverName, 'Lina');
  assert.equal(rows[0].content, 'ba2');

  // B's own list: the dialog with A once, and the group (not the empty one, B is not in it).
  const bRows = await list(b1);
  assert.deepEqual(bRows.map(key(b.id)), [`d${a.id}`, `g${g.groupId}`]);
  assert.equal(bRows[0].id, ba.id);

  // Activity in the group by another member moves it up for A.
  await tick();
  const gm2 = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'g2' });
  rows = await list(a1);
  assert.deepEqual(rows.map(key(a.id)), [`g${g.groupId}`, `d${b.id}`, `g${empty.groupId}`, `d${c.id}`]);
  assert.equal(rows[0].id, gm2.id);
  assert.equal(rows[0].content, 'g2');

  // A leaves the group: it is no longer A's conversation.
  await ok(a1, 'leaveGroup', { groupId: g.groupId });
  rows = await list(a1);
  assert.deepEqual(rows.map(key(a.id)), [`d${b.id}`, `g${empty.groupId}`, `d${c.id}`]);
});

test('an empty group appears with createdAt = when the caller joined, not when it was created', async () => {
  const a = await signUp(fx.relay.http, 'Opal');
  const b = await signUp(fx.relay.http, 'Pete');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const g = await ok(a1, 'newGroup', { groupName: 'Waiting' });
  await sleep(300);
  const t0 = Date.now();
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const t1 = Date.now();
  const rows = await list(b1);
  assert.equal(rows.length, 1);
  const r = rows[0];
  assert.equal(r.groupId, g.groupId);
  assert.equal(r.groupName, 'Waiting');
  assert.equal(r.id, null);
  assert.equal(r.content, null);
  const joined = Date.parse(r.createdAt);
  assert.ok(joined > Date.parse(g.createdAt) + 200, `joined at ${r.createdAt}, group created ${g.createdAt}`);
  assert.ok(joined >= t0 - 50 && joined <= t1 + 50, `joined at ${r.createdAt}, add request between ${new Date(t0).toISOString()} and ${new Date(t1).toISOString()}`);
  // The creator's row still shows the creation time.
  assert.equal((await list(a1))[0].createdAt, g.createdAt);
});

test('a dialog appears once however many messages, in both directions; a note to oneself once', async () => {
  const a = await signUp(fx.relay.http, 'Quinn');
  const b = await signUp(fx.relay.http, 'Rosa');
  const a1 = await connect(a);
  const b1 = await connect(b);
  let last: any;
  for (let i = 0; i < 6; i++) {
    last = await ok(i % 2 ? b1 : a1, 'privateMessage', { receiverId: i % 2 ? a.id : b.id, content: `x${i}` });
  }
  const self = await ok(a1, 'privateMessage', { receiverId: a.id, content: 'memo' });
  const rows = await list(a1);
  assert.deepEqual(rows.map((r) => r.id), [self.id, last.id]);
  assert.deepEqual([rows[0].senderId, rows[0].receiverId, rows[0].senderName, rows[0].receiverName], [a.id, a.id, 'Quinn', 'Quinn']);
  assert.equal(rows[1].content, 'x5');
  assert.deepEqual((await list(b1)).map((r) => r.id), [last.id]);
});

test('paging with limit/page; default limit 20', async () => {
  const a = await signUp(fx.relay.http, 'Sam');
  const b = await signUp(fx.relay.http, 'Tia');
  const a1 = await connect(a);
  await ok(a1, 'privateMessage', { receiverId: b.id, content: 'first' });
  const groups: number[] = [];
  for (let i = 0; i < 22; i++) {
    const g = await ok(a1, 'newGroup', { groupName: `p${i}` });
    groups.push(g.groupId);
    if (i % 3 === 0) await ok(a1, 'messageInGroup', { groupId: g.groupId, content: `in p${i}` });
  }
  const all = await list(a1, { limit: 100 });
  assert.equal(all.length, 23);
  assert.equal(new Set(all.map(key(a.id))).size, 23, 'each conversation once');
  assert.equal(all.at(-1).groupId, null, 'the oldest activity, the dialog, is last');
  // Most recent activity first: createdAt never increases down the list.
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].createdAt >= all[i].createdAt, `row ${i} order`);

  const def = await list(a1);
  assert.equal(def.length, 20, 'default limit 20');
  assert.deepEqual(def, all.slice(0, 20));
  const pages = [];
  for (let p = 1; p <= 5; p++) pages.push(await list(a1, { limit: 5, page: p }));
  assert.deepEqual(pages.map((x) => x.length), [5, 5, 5, 5, 3]);
  assert.deepEqual(pages.flat(), all, 'pages tile the list without gap or overlap');
  assert.deepEqual(await list(a1, { limit: 5, page: 6 }), []);
  assert.deepEqual(await list(a1, { limit: 1, page: 23 }), [all[22]]);
  // A user with no conversations gets an empty list.
  const c = await signUp(fx.relay.http, 'Uma');
  assert.deepEqual(await list(await connect(c)), []);
});

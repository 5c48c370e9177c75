// Histories: getlatestMessageDialog and getlatestMessageGroup — row shapes, order, page/limit,
// beforeId/afterId, group history from before joining, current names, deleted accounts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, http, signUp, sleep } from './helpers/client.js';
import { useRelay, ok, errorOf } from './helpers/protocol.js';

const fx = useRelay('ws_history', { AUTH_RATE_PER_MINUTE: '100000' });
const { connect } = fx;

// v1's fields plus v1.1's seq, editedAt and deletedAt.
// v1.2 adds replyTo, mentions and reactions to every history row.
const DIALOG_KEYS = ['attachments', 'content', 'created_at', 'deletedAt', 'editedAt', 'id', 'mentions', 'reactions', 'receiver_id', 'receverName', 'replyTo', 'senderName', 'sender_id', 'seq'];
const GROUP_KEYS = ['attachments', 'content', 'created_at', 'deletedAt', 'editedAt', 'group_id', 'id', 'mentions', 'reactions', 'replyTo', 'senderName', 'sender_id', 'seq'];

const dialog = (c: Client, receiverId: number, extra: Record<string, unknown> = {}) =>
  ok(c, 'getlatestMessageDialog', { receiverId, ...extra });
const groupHistory = (c: Client, groupId: number, extra: Record<string, unknown> = {}) =>
  ok(c, 'getlatestMessageGroup', { groupId, ...extra });
const ids = (rows: { id: number }[]): number[] => rows.map((r) => r.id);
const desc = (xs: number[]): number[] => [...xs].sort((x, y) => y - x);

/** Sends n messages one after the other, alternating between two senders; returns the ids, oldest first. */
async function exchange(a: Client, aId: number, b: Client, bId: number, n: number, prefix = 'm'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const [from, to] = i % 2 === 0 ? [a, bId] : [b, aId];
    out.push((await ok(from, 'privateMessage', { receiverId: to, content: `${prefix}${i}` })).id);
  }
  return out;
}

test('dialog history: both directions, newest first, exact row shape with receverName', async () => {
  const a = await signUp(fx.relay.http, 'Ada');
  const b = await signUp(fx.relay.http, 'Ben');
  const c = await signUp(fx.relay.http, 'Cid');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const c1 = await connect(c);
  const sent = await exchange(a1, a.id, b1, b.id, 4);
  // Noise: other dialogs and a group, which must not show up.
  await ok(a1, 'privateMessage', { receiverId: c.id, content: 'to Cid' });
  await ok(c1, 'privateMessage', { receiverId: b.id, content: 'Cid to Ben' });
  const g = await ok(a1, 'newGroup', { groupName: 'noise' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'group noise' });

  const rows = await dialog(a1, b.id);
  assert.deepEqual(ids(rows), desc(sent), 'exactly this dialog, newest first');
  for (const r of rows) {
    assert.deepEqual(Object.keys(r).sort(), DIALOG_KEYS);
    const fromA = r.sender_id === a.id;
    assert.equal(r.receiver_id, fromA ? b.id : a.id);
    assert.equal(r.senderName, fromA ? 'Ada' : 'Ben');
    assert.equal(r.receverName, fromA ? 'Ben' : 'Ada', 'receverName names receiver_id');
    assert.match(r.created_at, /^\d{4}-\d\d-\d\dT.*Z$/);
  }
  assert.deepEqual(rows.map((r: any) => r.content), ['m3', 'm2', 'm1', 'm0']);
  assert.deepEqual(await dialog(b1, a.id), rows, 'both sides see the same history');
  // A dialog with someone one never wrote to is empty, not an error.
  const d = await signUp(fx.relay.http, 'Dee');
  assert.deepEqual(await dialog(a1, d.id), []);
});

test('dialog history pages with page/limit across several pages; default limit is 20', async () => {
  const a = await signUp(fx.relay.http, 'Pager');
  const b = await signUp(fx.relay.http, 'Paged');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const sent = await exchange(a1, a.id, b1, b.id, 25);
  const all = desc(sent);
  const p1 = await dialog(a1, b.id, { limit: 10, page: 1 });
  const p2 = await dialog(a1, b.id, { limit: 10, page: 2 });
  const p3 = await dialog(a1, b.id, { limit: 10, page: 3 });
  const p4 = await dialog(a1, b.id, { limit: 10, page: 4 });
  assert.deepEqual([p1.length, p2.length, p3.length, p4.length], [10, 10, 5, 0]);
  assert.deepEqual([...ids(p1), ...ids(p2), ...ids(p3)], all, 'pages tile the history, newest first, no overlap or gap');
  assert.deepEqual(ids(await dialog(a1, b.id)), all.slice(0, 20), 'default: page 1, limit 20');
  assert.deepEqual(ids(await dialog(a1, b.id, { limit: 100 })), all);
  assert.deepEqual(ids(await dialog(b1, a.id, { limit: 7, page: 2 })), all.slice(7, 14));
});

test('dialog history: beforeId pages stay stable while new messages arrive; afterId catches up oldest first', async () => {
  const a = await signUp(fx.relay.http, 'Before');
  const b = await signUp(fx.relay.http, 'After');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const sent = await exchange(a1, a.id, b1, b.id, 25, 'old');
  const all = desc(sent);
  const first = await dialog(a1, b.id, { limit: 10 });
  assert.deepEqual(ids(first), all.slice(0, 10));
  // Three new messages arrive while the user scrolls back.
  const fresh = await exchange(a1, a.id, b1, b.id, 3, 'new');
  const second = await dialog(a1, b.id, { limit: 10, beforeId: first.at(-1).id });
  assert.deepEqual(ids(second), all.slice(10, 20), 'beforeId continues exactly where the first page ended');
  // (page 2 would now be shifted by the three new messages: the reason beforeId exists.)
  assert.deepEqual(ids(await dialog(a1, b.id, { limit: 10, page: 2 })), desc([...sent, ...fresh]).slice(10, 20));
  const third = await dialog(a1, b.id, { limit: 10, beforeId: second.at(-1).id, page: 7 });
  assert.deepEqual(ids(third), all.slice(20, 25), 'page is ignored with beforeId');
  assert.deepEqual(await dialog(a1, b.id, { limit: 10, beforeId: all.at(-1) }), []);

  // afterId: the next `limit` messages after it, oldest first.
  const oldestFirst = [...sent, ...fresh];
  const caught = await dialog(b1, a.id, { afterId: oldestFirst[4], limit: 10 });
  assert.deepEqual(ids(caught), oldestFirst.slice(5, 15));
  const rest = await dialog(b1, a.id, { afterId: caught.at(-1).id, limit: 100 });
  assert.deepEqual(ids(rest), oldestFirst.slice(15));
  assert.deepEqual(rest.slice(-3).map((r: any) => r.content), ['new0', 'new1', 'new2']);
  assert.deepEqual(await dialog(b1, a.id, { afterId: oldestFirst.at(-1) }), []);
  // beforeId/afterId that are not ids of this dialog still work as positions.
  assert.deepEqual(ids(await dialog(a1, b.id, { beforeId: 2 ** 40, limit: 3 })), desc(oldestFirst).slice(0, 3));
});

test('group history: newest first, exact row shape, paging, beforeId/afterId; late members see it all', async () => {
  const a = await signUp(fx.relay.http, 'Gwen');
  const b = await signUp(fx.relay.http, 'Gus');
  const late = await signUp(fx.relay.http, 'Late');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const l1 = await connect(late);
  const g = await ok(a1, 'newGroup', { groupName: 'Hist' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const other = await ok(a1, 'newGroup', { groupName: 'Other' });
  const sent: number[] = [];
  for (let i = 0; i < 25; i++) {
    const from = i % 2 === 0 ? a1 : b1;
    sent.push((await ok(from, 'messageInGroup', { groupId: g.groupId, content: `g${i}` })).id);
    if (i % 5 === 0) await ok(a1, 'messageInGroup', { groupId: other.groupId, content: 'elsewhere' });
  }
  await ok(a1, 'privateMessage', { receiverId: b.id, content: 'private noise' });
  const all = desc(sent);

  const rows = await groupHistory(a1, g.groupId, { limit: 100 });
  assert.deepEqual(ids(rows), all, 'this group only, newest first');
  for (const r of rows) {
    assert.deepEqual(Object.keys(r).sort(), GROUP_KEYS);
    assert.equal(r.group_id, g.groupId);
    assert.equal(r.senderName, r.sender_id === a.id ? 'Gwen' : 'Gus');
  }
  assert.equal(rows[0].content, 'g24');

  const pages = [];
  for (let p = 1; p <= 4; p++) pages.push(ids(await groupHistory(b1, g.groupId, { limit: 10, page: p })));
  assert.deepEqual(pages.map((x) => x.length), [10, 10, 5, 0]);
  assert.deepEqual(pages.flat(), all);
  assert.deepEqual(ids(await groupHistory(b1, g.groupId)), all.slice(0, 20), 'default limit 20');

  // Not a member yet: FORBIDDEN with the brief's message.
  const f = await errorOf(l1, 'getlatestMessageGroup', { groupId: g.groupId }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  // Once added, the whole history from before joining.
  await ok(b1, 'addUserInGroup', { groupId: g.groupId, userId: late.id });
  assert.deepEqual(ids(await groupHistory(l1, g.groupId, { limit: 100 })), all);

  const first = await groupHistory(l1, g.groupId, { limit: 10 });
  const newer: number[] = [];
  for (let i = 0; i < 3; i++) newer.push((await ok(a1, 'messageInGroup', { groupId: g.groupId, content: `n${i}` })).id);
  assert.deepEqual(ids(await groupHistory(l1, g.groupId, { limit: 10, beforeId: first.at(-1).id })), all.slice(10, 20));
  const oldestFirst = [...sent, ...newer];
  assert.deepEqual(ids(await groupHistory(l1, g.groupId, { limit: 10, afterId: oldestFirst[9] })), oldestFirst.slice(10, 20));
  assert.deepEqual(ids(await groupHistory(l1, g.groupId, { afterId: oldestFirst[24] })), newer);
});

test('names in histories are the current firstName (PATCH /profile)', async () => {
  const a = await signUp(fx.relay.http, 'Oldname');
  const b = await signUp(fx.relay.http, 'Reader');
  const a1 = await connect(a);
  const b1 = await connect(b);
  await ok(a1, 'privateMessage', { receiverId: b.id, content: 'from a' });
  await ok(b1, 'privateMessage', { receiverId: a.id, content: 'to a' });
  const g = await ok(a1, 'newGroup', { groupName: 'Names' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'in group' });
  const before = await dialog(b1, a.id);
  assert.deepEqual(before.map((r: any) => [r.senderName, r.receverName]), [['Reader', 'Oldname'], ['Oldname', 'Reader']]);

  const res = await http(fx.relay.http, 'PATCH', '/profile', { token: a.token, body: { firstName: 'Newname' } });
  assert.equal(res.status, 200);
  assert.equal(res.body.firstName, 'Newname');

  const afterRows = await dialog(b1, a.id);
  assert.deepEqual(afterRows.map((r: any) => [r.senderName, r.receverName]), [['Reader', 'Newname'], ['Newname', 'Reader']]);
  assert.deepEqual((await groupHistory(b1, g.groupId)).map((r: any) => r.senderName), ['Newname']);
  // Pushes and the chat list use it as well.
  const m = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'renamed' });
  const push = await b1.push('privateMessage', (d) => d.id === m.id);
  assert.equal(push.params.senderName, 'Newname');
  const list = await ok(b1, 'listLastMessage', {});
  const row = list.find((r: any) => r.groupId === null);
  assert.equal(row.senderName, 'Newname');
});

test('a deleted account: "Deleted account" in histories, leaveGroup pushes for its groups, NOT_FOUND as a target', async () => {
  const a = await signUp(fx.relay.http, 'Survivor');
  const d = await signUp(fx.relay.http, 'Doomed');
  const a1 = await connect(a);
  const a2 = await connect(a);
  const d1 = await connect(d);
  const d2 = await connect(d, 'protocol');
  const g1 = await ok(a1, 'newGroup', { groupName: 'G1' });
  const g2 = await ok(a1, 'newGroup', { groupName: 'G2' });
  await ok(a1, 'addUserInGroup', { groupId: g1.groupId, userId: d.id });
  await ok(a1, 'addUserInGroup', { groupId: g2.groupId, userId: d.id });
  // A group D created alone, and a group of which D was the last member.
  const own = await ok(d1, 'newGroup', { groupName: 'Mine' });
  await ok(a1, 'privateMessage', { receiverId: d.id, content: 'hi D' });
  const fromD = await ok(d1, 'privateMessage', { receiverId: a.id, content: 'bye A' });
  const inGroup = await ok(d1, 'messageInGroup', { groupId: g1.groupId, content: 'D in G1' });

  const res = await http(fx.relay.http, 'DELETE', '/profile', { token: d.token });
  assert.equal(res.status, 200);

  for (const conn of [a1, a2]) {
    for (const g of [g1, g2]) {
      const p = await conn.push('leaveGroup', (x) => x.groupId === g.groupId && x.userId === d.id);
      assert.deepEqual(Object.keys(p).sort(), ['params', 'success', 'type']);
      assert.deepEqual(p.params, { data: { groupId: g.groupId, userId: d.id }, message: 'Doomed left the group', senderName: 'Doomed' });
    }
  }
  for (const c of [d1, d2]) assert.equal(await Promise.race([c.closed, sleep(2000).then(() => 'still open')]), 4003);

  const rows = await dialog(a1, d.id);
  assert.deepEqual(rows.map((r: any) => [r.sender_id, r.senderName, r.receiver_id, r.receverName, r.content]), [
    [d.id, 'Deleted account', a.id, 'Survivor', 'bye A'],
    [a.id, 'Survivor', d.id, 'Deleted account', 'hi D'],
  ]);
  assert.equal(rows[0].id, fromD.id);
  const gh = await groupHistory(a1, g1.groupId);
  assert.deepEqual(gh.map((r: any) => [r.id, r.sender_id, r.senderName]), [[inGroup.id, d.id, 'Deleted account']]);
  const list = await ok(a1, 'listLastMessage', {});
  const dRow = list.find((r: any) => r.groupId === null);
  assert.equal(dRow.senderId, d.id);
  assert.equal(dRow.senderName, 'Deleted account');

  let f = await errorOf(a1, 'privateMessage', { receiverId: d.id, content: 'are you there?' }, 'NOT_FOUND');
  assert.match(f.message, /not found/i);
  f = await errorOf(a1, 'addUserInGroup', { groupId: g1.groupId, userId: d.id }, 'NOT_FOUND');
  // Nothing was stored by the refused send.
  assert.equal((await dialog(a1, d.id)).length, 2);
  // D's own group lives on with no members.
  await errorOf(a1, 'getlatestMessageGroup', { groupId: own.groupId }, 'FORBIDDEN');
  // The old token is dead.
  await assert.rejects(Client.connect(fx.relay.ws, d.token), (err: Error & { status?: number }) => err.status === 401);
});

// The histories and the chat list come as JSON the database wrote (src/db/historyReads.ts): the
// content must come back exactly as sent, and the timestamps as the send reply gave them.
test('histories and the chat list return content exactly as sent, timestamps as in the send reply', async () => {
  const a = await signUp(fx.relay.http, 'Ada');
  const b = await signUp(fx.relay.http, 'Ben');
  const a1 = await connect(a);
  const content = 'quote " backslash \\ nl \n tab \t cr \r ctrl \u0001\u001f del \u007f emoji 😀 漢字 \u2028\u2029 </script> {"x":1}';
  const sent = await ok(a1, 'privateMessage', { receiverId: b.id, content });
  const g = await ok(a1, 'newGroup', { groupName: 'g "x" \\ y' });
  const inGroup = await ok(a1, 'messageInGroup', { groupId: g.groupId, content });

  for (const rows of [await dialog(a1, b.id), await dialog(a1, b.id, { beforeId: sent.id + 1 }), await dialog(a1, b.id, { afterId: sent.id - 1 })]) {
    assert.equal(rows.length, 1);
    assert.equal(rows[0].content, content);
    assert.equal(rows[0].created_at, sent.createdAt);
    assert.equal(rows[0].senderName, 'Ada');
  }
  for (const rows of [await groupHistory(a1, g.groupId), await groupHistory(a1, g.groupId, { afterId: inGroup.id - 1 })]) {
    assert.equal(rows.length, 1);
    assert.equal(rows[0].content, content);
    assert.equal(rows[0].created_at, inGroup.createdAt);
  }
  const list = await ok(a1, 'listLastMessage', {});
  assert.deepEqual(list.map((r: any) => [r.content, r.createdAt, r.groupName]), [
    [content, inGroup.createdAt, 'g "x" \\ y'],
    [content, sent.createdAt, null],
  ]);
});

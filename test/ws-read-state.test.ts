// v1.1 "Sequence numbers" and "Read state" on one node: seq in replies, pushes, histories and the
// chat list; markRead, its pushes and errors; unreadCount; where a joiner's marker starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp, type Client } from './helpers/client.js';
import { useRelay, ok, assertPush, errorOf, assertNoPush } from './helpers/protocol.js';

const fx = useRelay('ws_read_state', { AUTH_RATE_PER_MINUTE: '100000' });
const { connect } = fx;

async function chatRow(c: Client, match: (r: any) => boolean): Promise<any> {
  const rows = await ok(c, 'listLastMessage', { limit: 100 });
  const row = rows.find(match);
  assert.ok(row, `chat list row in ${JSON.stringify(rows)}`);
  return row;
}
const groupRow = (c: Client, groupId: number) => chatRow(c, (r) => r.groupId === groupId);
const dialogRow = (c: Client, me: number, peer: number) =>
  chatRow(c, (r) => r.groupId === null && (r.senderId === peer || r.receiverId === peer) && (r.senderId === me || r.receiverId === me));

test('seq: 1, 2, 3 … per conversation, in send replies, pushes, both histories and the chat list', async () => {
  const a = await signUp(fx.relay.http, 'Ann');
  const b = await signUp(fx.relay.http, 'Bob');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const g = await ok(a1, 'newGroup', { groupName: 'Seq' });
  const other = await ok(a1, 'newGroup', { groupName: 'Other' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });

  const gm: any[] = [];
  for (let i = 0; i < 3; i++) {
    gm.push(await ok(i % 2 ? b1 : a1, 'messageInGroup', { groupId: g.groupId, content: `g${i}` }));
    // Another conversation in between does not take numbers from this one.
    await ok(a1, 'messageInGroup', { groupId: other.groupId, content: `o${i}` });
  }
  assert.deepEqual(gm.map((m) => m.seq), [1, 2, 3]);
  const push = await b1.push('messageInGroup', (d) => d.id === gm[2].id);
  assert.equal(push.params.data.seq, 3);

  const pm: any[] = [];
  for (let i = 0; i < 3; i++) pm.push(await ok(i % 2 ? b1 : a1, 'privateMessage', { receiverId: i % 2 ? a.id : b.id, content: `p${i}` }));
  assert.deepEqual(pm.map((m) => m.seq), [1, 2, 3], 'a dialog counts both directions together');
  assert.equal((await b1.push('privateMessage', (d) => d.id === pm[2].id)).params.data.seq, 3);
  const memo = await ok(a1, 'privateMessage', { receiverId: a.id, content: 'memo' });
  assert.equal(memo.seq, 1, 'a note to oneself is its own conversation');

  const gh = await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId });
  assert.deepEqual(gh.map((r: any) => [r.id, r.seq, r.editedAt, r.deletedAt]), gm.map((m) => [m.id, m.seq, null, null]).reverse());
  const dh = await ok(b1, 'getlatestMessageDialog', { receiverId: a.id, afterId: 1 });
  assert.deepEqual(dh.map((r: any) => [r.id, r.seq, r.editedAt, r.deletedAt]), pm.map((m) => [m.id, m.seq, null, null]));

  assert.equal((await groupRow(b1, g.groupId)).seq, 3);
  assert.equal((await dialogRow(b1, b.id, a.id)).seq, 3);
  const empty = await ok(b1, 'newGroup', { groupName: 'Empty' });
  const emptyRow = await groupRow(b1, empty.groupId);
  assert.deepEqual([emptyRow.seq, emptyRow.unreadCount, emptyRow.lastReadId, emptyRow.peerLastReadId], [null, 0, null, null]);
});

test('seq under concurrency: five sockets sending at once get 1..N, no gap, no repeat, id order = seq order', async () => {
  const users = await Promise.all(['S1', 'S2', 'S3', 'S4', 'S5'].map((n) => signUp(fx.relay.http, n)));
  const socks = await Promise.all(users.map((u) => connect(u)));
  const g = await ok(socks[0]!, 'newGroup', { groupName: 'Burst' });
  for (const u of users.slice(1)) await ok(socks[0]!, 'addUserInGroup', { groupId: g.groupId, userId: u.id });
  const PER = 40;
  const replies = (await Promise.all(socks.map((c, k) =>
    Promise.all(Array.from({ length: PER }, (_, i) => ok(c, 'messageInGroup', { groupId: g.groupId, content: `${k}:${i}` })))))).flat();
  const seqs = replies.map((r) => r.seq).sort((x, y) => x - y);
  assert.deepEqual(seqs, Array.from({ length: socks.length * PER }, (_, i) => i + 1));
  const byId = [...replies].sort((x, y) => x.id - y.id);
  assert.deepEqual(byId.map((r) => r.seq), seqs, 'id order is seq order');
  const history = await ok(socks[1]!, 'getlatestMessageGroup', { groupId: g.groupId, limit: 100, afterId: 1 });
  assert.deepEqual(history.map((r: any) => r.seq), seqs.slice(0, 100));
});

test('sends refused or deduplicated in the same batch take no seq: no hole', async () => {
  const a = await signUp(fx.relay.http, 'Mia');
  const b = await signUp(fx.relay.http, 'Ned');
  const outsider = await signUp(fx.relay.http, 'Out');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const o1 = await connect(outsider);
  const g = await ok(a1, 'newGroup', { groupName: 'Holes' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  // Sent in the same turn, so group-committed together: refusals and repeats of one
  // clientMessageId sit in the batch beside messages that are stored.
  const frames = await Promise.all([
    ...Array.from({ length: 5 }, (_, i) => a1.request('messageInGroup', { groupId: g.groupId, content: `a${i}` })),
    ...Array.from({ length: 5 }, () => o1.request('messageInGroup', { groupId: g.groupId, content: 'not a member' })),
    ...Array.from({ length: 5 }, () => b1.request('messageInGroup', { groupId: g.groupId, content: 'once', clientMessageId: 'same-id' })),
    b1.request('messageInGroup', { groupId: g.groupId, content: 'different', clientMessageId: 'same-id' }),
  ]);
  assert.deepEqual(frames.slice(5, 10).map((f) => f.code), Array(5).fill('FORBIDDEN'));
  const onces = frames.slice(10, 15).map((f) => f.params.data);
  assert.equal(new Set(onces.map((d) => d.id)).size, 1, 'one clientMessageId, one message');
  assert.equal(frames[15]!.code, 'CONFLICT');
  const stored = [...frames.slice(0, 5).map((f) => f.params.data), onces[0]];
  assert.deepEqual(stored.map((d) => d.seq).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6]);
  assert.equal((await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'next' })).seq, 7);
});

test('markRead in a group: forward only, exact unreadCount, pushed to the reader\'s other connections only', async () => {
  const a = await signUp(fx.relay.http, 'Cora');
  const b = await signUp(fx.relay.http, 'Dirk');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const b2 = await connect(b);
  const g = await ok(a1, 'newGroup', { groupName: 'Reads' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const sent: any[] = [];
  for (let i = 0; i < 5; i++) sent.push(await ok(a1, 'messageInGroup', { groupId: g.groupId, content: `r${i}` }));

  let row = await groupRow(b1, g.groupId);
  assert.deepEqual([row.unreadCount, row.lastReadId, row.peerLastReadId], [5, null, null]);
  const mine = await groupRow(a1, g.groupId);
  assert.deepEqual([mine.unreadCount, mine.lastReadId], [0, sent[4].id], 'sending moves the sender\'s marker');

  const data = await ok(b1, 'markRead', { groupId: g.groupId, messageId: sent[2].id });
  assert.deepEqual(data, { userId: b.id, receiverId: null, groupId: g.groupId, lastReadId: sent[2].id, lastReadSeq: 3, unreadCount: 2 });
  const pd = assertPush(await b2.push('markRead', (d) => d.lastReadId === sent[2].id), 'markRead', null, 'Dirk');
  assert.deepEqual(pd, data, 'the reader\'s other connections get the unread count too');
  await assertNoPush(b1, 'markRead', () => true, 'the reading connection');
  await assertNoPush(a1, 'markRead', () => true, 'other group members (no receipts in groups)', 0);
  row = await groupRow(b1, g.groupId);
  assert.deepEqual([row.unreadCount, row.lastReadId], [2, sent[2].id]);
  // "Read by": getGroupMembers shows each member's marker; getGroup the group's newest seq.
  const members = await ok(a1, 'getGroupMembers', { groupId: g.groupId });
  assert.deepEqual(members.map((m: any) => [m.userId, m.lastReadId]), [[a.id, sent[4].id], [b.id, sent[2].id]]);
  assert.equal((await ok(b1, 'getGroup', { groupId: g.groupId })).lastSeq, 5);

  // Older or the same: nothing changes, nothing is pushed, the current state is answered.
  const before = b2.pushes('markRead').length;
  for (const m of [sent[1], sent[2]]) {
    assert.deepEqual(await ok(b1, 'markRead', { groupId: g.groupId, messageId: m.id }), data);
  }
  await assertNoPush(b2, 'markRead', (d) => d.lastReadSeq !== 3, 'a marker that did not move');
  assert.equal(b2.pushes('markRead').length, before);

  const last = await ok(b1, 'markRead', { groupId: g.groupId, receiverId: null, messageId: sent[4].id });
  assert.deepEqual([last.lastReadSeq, last.unreadCount], [5, 0], 'receiverId: null counts as absent');
  // Deleted messages still count as unread.
  const gone = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'soon gone' });
  await ok(a1, 'deleteMessage', { messageId: gone.id });
  assert.equal((await groupRow(b1, g.groupId)).unreadCount, 1);
});

test('markRead in a dialog: the partner gets a read receipt; peerLastReadId; the receiver starts with nothing read', async () => {
  const a = await signUp(fx.relay.http, 'Eli');
  const b = await signUp(fx.relay.http, 'Fox');
  const a1 = await connect(a);
  const a2 = await connect(a);
  const b1 = await connect(b);
  const b2 = await connect(b);
  const m1 = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'one' });
  const m2 = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'two' });

  let row = await dialogRow(b1, b.id, a.id);
  assert.deepEqual([row.unreadCount, row.lastReadId, row.peerLastReadId], [2, null, m2.id]);

  const data = await ok(b1, 'markRead', { receiverId: a.id, messageId: m1.id });
  assert.deepEqual(data, { userId: b.id, receiverId: a.id, groupId: null, lastReadId: m1.id, lastReadSeq: 1, unreadCount: 1 });
  const own = assertPush(await b2.push('markRead'), 'markRead', null, 'Fox');
  assert.deepEqual(own, data);
  for (const c of [a1, a2]) {
    const receipt = assertPush(await c.push('markRead'), 'markRead', null, 'Fox');
    assert.deepEqual(receipt, { userId: b.id, receiverId: a.id, groupId: null, lastReadId: m1.id, lastReadSeq: 1 },
      'the partner\'s receipt names the partner as receiverId and carries no unreadCount');
  }
  await assertNoPush(b1, 'markRead', () => true, 'the reading connection');
  row = await dialogRow(a1, a.id, b.id);
  assert.deepEqual([row.unreadCount, row.lastReadId, row.peerLastReadId], [0, m2.id, m1.id]);

  // A reply moves B's marker to it, past A's messages.
  const r = await ok(b1, 'privateMessage', { receiverId: a.id, content: 'back' });
  row = await dialogRow(b1, b.id, a.id);
  assert.deepEqual([row.unreadCount, row.lastReadId, row.seq], [0, r.id, 3]);
  assert.equal((await dialogRow(a1, a.id, b.id)).unreadCount, 1);
});

test('joining sets the marker to the group\'s newest message: created, added, added again', async () => {
  const a = await signUp(fx.relay.http, 'Gail');
  const b = await signUp(fx.relay.http, 'Hank');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const g = await ok(a1, 'newGroup', { groupName: 'Late' });
  const created = await groupRow(a1, g.groupId);
  assert.deepEqual([created.unreadCount, created.lastReadId], [0, null]);
  const old: any[] = [];
  for (let i = 0; i < 3; i++) old.push(await ok(a1, 'messageInGroup', { groupId: g.groupId, content: `before ${i}` }));
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  let row = await groupRow(b1, g.groupId);
  assert.deepEqual([row.unreadCount, row.lastReadId, row.seq], [0, old[2].id, 3], 'what came before is history, not unread');
  assert.equal((await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId })).length, 3, 'and visible');
  await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'after' });
  assert.equal((await groupRow(b1, g.groupId)).unreadCount, 1);

  await ok(b1, 'leaveGroup', { groupId: g.groupId });
  const more: any[] = [];
  for (let i = 0; i < 2; i++) more.push(await ok(a1, 'messageInGroup', { groupId: g.groupId, content: `while away ${i}` }));
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  row = await groupRow(b1, g.groupId);
  assert.deepEqual([row.unreadCount, row.lastReadId], [0, more[1].id]);
});

test('markRead errors: exactly one conversation, the message must be in it, members only', async () => {
  const a = await signUp(fx.relay.http, 'Ivy');
  const b = await signUp(fx.relay.http, 'Jon');
  const c = await signUp(fx.relay.http, 'Kit');
  const a1 = await connect(a);
  const c1 = await connect(c);
  const g = await ok(a1, 'newGroup', { groupName: 'Err' });
  const gm = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'in group' });
  const pm = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'to Jon' });

  await errorOf(a1, 'markRead', { messageId: gm.id }, 'VALIDATION');
  await errorOf(a1, 'markRead', { groupId: null, receiverId: null, messageId: gm.id }, 'VALIDATION');
  await errorOf(a1, 'markRead', { groupId: g.groupId, receiverId: b.id, messageId: gm.id }, 'VALIDATION');
  await errorOf(a1, 'markRead', { groupId: g.groupId }, 'VALIDATION');
  for (const bad of [0, -1, 1.5, '7', 2 ** 53]) await errorOf(a1, 'markRead', { groupId: g.groupId, messageId: bad }, 'VALIDATION');
  await errorOf(a1, 'markRead', { groupId: 'x', messageId: gm.id }, 'VALIDATION');

  await errorOf(a1, 'markRead', { groupId: g.groupId, messageId: pm.id }, 'NOT_FOUND');
  await errorOf(a1, 'markRead', { groupId: g.groupId, messageId: 2 ** 40 }, 'NOT_FOUND');
  await errorOf(a1, 'markRead', { receiverId: b.id, messageId: gm.id }, 'NOT_FOUND');
  await errorOf(a1, 'markRead', { receiverId: c.id, messageId: pm.id }, 'NOT_FOUND');
  await errorOf(c1, 'markRead', { receiverId: a.id, messageId: pm.id }, 'NOT_FOUND');
  const f = await errorOf(c1, 'markRead', { groupId: g.groupId, messageId: gm.id }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  await errorOf(c1, 'markRead', { groupId: 2147483647, messageId: gm.id }, 'FORBIDDEN');
});

// v1.1 "Edit and delete" on one node: editMessage and deleteMessage replies, pushes, permissions
// (sender; a group's owner and admins for deletes), the content erased in the store, history and
// chat list fields.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { signUp, sleep } from './helpers/client.js';
import { useRelay, QUIET_MS, ok, assertPush, errorOf, assertNoPush, assertIsoDate, count } from './helpers/protocol.js';

const fx = useRelay('ws_edit_delete', { AUTH_RATE_PER_MINUTE: '100000' });
const { connect } = fx;

let db: postgres.Sql | undefined;
const store = (): postgres.Sql => (db ??= postgres(fx.db.url, { max: 1, onnotice: () => undefined }));
after(async () => { await db?.end(); });

test('editMessage: the sender edits; everyone in the conversation gets the push; history shows it', async () => {
  const a = await signUp(fx.relay.http, 'Lea');
  const b = await signUp(fx.relay.http, 'Moe');
  const a1 = await connect(a);
  const a2 = await connect(a);
  const b1 = await connect(b);
  const g = await ok(a1, 'newGroup', { groupName: 'Edits' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const m = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'helo' });

  const data = await ok(a1, 'editMessage', { messageId: m.id, content: 'hello' });
  assert.deepEqual(Object.keys(data).sort(), ['attachments', 'content', 'createdAt', 'editedAt', 'groupId', 'id', 'mentions', 'receiverId', 'replyTo', 'senderId', 'seq']);
  assert.deepEqual({ ...data, editedAt: null }, {
    id: m.id, seq: 1, senderId: a.id, receiverId: null, groupId: g.groupId, content: 'hello', createdAt: m.createdAt, editedAt: null,
    replyTo: null, mentions: [], attachments: [],
  });
  assertIsoDate(data.editedAt, 'editedAt');
  for (const c of [a2, b1]) {
    assert.deepEqual(assertPush(await c.push('editMessage', (d) => d.id === m.id), 'editMessage', 'hello', 'Lea'), data);
  }
  await assertNoPush(a1, 'editMessage', () => true, 'the editing connection');
  const [row] = await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId });
  assert.deepEqual([row.content, row.editedAt, row.deletedAt, row.seq], ['hello', data.editedAt, null, 1]);

  // A dialog: both sides, every connection but the editing one.
  const pm = await ok(b1, 'privateMessage', { receiverId: a.id, content: 'typo' });
  const edited = await ok(b1, 'editMessage', { messageId: pm.id, content: 'fixed' });
  assert.deepEqual([edited.receiverId, edited.groupId, edited.seq], [a.id, null, 1]);
  for (const c of [a1, a2]) await c.push('editMessage', (d) => d.id === pm.id && d.content === 'fixed');
  const [drow] = await ok(a1, 'getlatestMessageDialog', { receiverId: b.id });
  assert.deepEqual([drow.content, drow.editedAt], ['fixed', edited.editedAt]);
  assert.equal((await ok(a1, 'listLastMessage', {})).find((r: any) => r.id === pm.id).content, 'fixed');
});

test('editMessage errors: others FORBIDDEN; deleted, unknown, outside or left conversations NOT_FOUND; content checked', async () => {
  const a = await signUp(fx.relay.http, 'Nat');
  const b = await signUp(fx.relay.http, 'Oli');
  const c = await signUp(fx.relay.http, 'Pam');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const c1 = await connect(c);
  const g = await ok(a1, 'newGroup', { groupName: 'NoEdit' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const m = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'mine' });
  const pm = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'private' });

  await errorOf(b1, 'editMessage', { messageId: m.id, content: 'theirs' }, 'FORBIDDEN');
  await errorOf(b1, 'editMessage', { messageId: pm.id, content: 'theirs' }, 'FORBIDDEN');
  await errorOf(c1, 'editMessage', { messageId: m.id, content: 'x' }, 'NOT_FOUND');
  await errorOf(c1, 'editMessage', { messageId: pm.id, content: 'x' }, 'NOT_FOUND');
  await errorOf(a1, 'editMessage', { messageId: 2 ** 40, content: 'x' }, 'NOT_FOUND');
  for (const bad of [{}, { messageId: m.id }, { messageId: m.id, content: '  ' }, { messageId: m.id, content: 'x'.repeat(4097) },
    { messageId: 0, content: 'x' }, { messageId: '1', content: 'x' }, { messageId: m.id, content: 5 }]) {
    await errorOf(a1, 'editMessage', bad, 'VALIDATION');
  }
  const bm = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'before leaving' });
  await ok(b1, 'leaveGroup', { groupId: g.groupId });
  await errorOf(b1, 'editMessage', { messageId: bm.id, content: 'after leaving' }, 'NOT_FOUND');
  await ok(a1, 'deleteMessage', { messageId: m.id });
  await errorOf(a1, 'editMessage', { messageId: m.id, content: 'too late' }, 'NOT_FOUND');
  const [stored] = await store()<{ content: string }[]>`select content from messages where id = ${m.id}`;
  assert.equal(stored!.content, '');
});

test('deleteMessage: content erased in the store; history and chat list show "" and deletedAt; a second delete answers the same, pushes nothing', async () => {
  const a = await signUp(fx.relay.http, 'Quin');
  const b = await signUp(fx.relay.http, 'Rex');
  const a1 = await connect(a);
  const a2 = await connect(a);
  const b1 = await connect(b);
  const g = await ok(a1, 'newGroup', { groupName: 'Deletes' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const keep = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'keep' });
  const m = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'secret words' });

  const data = await ok(a1, 'deleteMessage', { messageId: m.id });
  assert.deepEqual(Object.keys(data).sort(), ['deletedAt', 'groupId', 'id', 'receiverId', 'senderId', 'seq']);
  assert.deepEqual({ ...data, deletedAt: null }, { id: m.id, seq: 2, senderId: a.id, receiverId: null, groupId: g.groupId, deletedAt: null });
  assertIsoDate(data.deletedAt, 'deletedAt');
  for (const c of [a2, b1]) {
    assert.deepEqual(assertPush(await c.push('deleteMessage', (d) => d.id === m.id), 'deleteMessage', null, 'Quin'), data);
  }
  await assertNoPush(a1, 'deleteMessage', () => true, 'the deleting connection');

  const rows = await store()<{ content: string; deleted_at: Date | null; seq: number }[]>`
    select content, deleted_at, seq::int from messages where id = ${m.id}`;
  assert.deepEqual([rows[0]!.content, rows[0]!.seq], ['', 2], 'gone from the store, not hidden');
  assert.equal((await store()`select count(*)::int as n from messages where content like '%secret words%'`)[0]!.n, 0);
  const history = await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId });
  assert.deepEqual(history.map((r: any) => [r.id, r.seq, r.content, r.deletedAt, r.sender_id]),
    [[m.id, 2, '', data.deletedAt, a.id], [keep.id, 1, 'keep', null, b.id]]);
  const row = (await ok(b1, 'listLastMessage', {})).find((r: any) => r.groupId === g.groupId);
  assert.deepEqual([row.id, row.content, row.deletedAt, row.seq], [m.id, '', data.deletedAt, 2]);

  assert.deepEqual(await ok(a1, 'deleteMessage', { messageId: m.id }), data, 'deleting again answers the same');
  await sleep(QUIET_MS);
  assert.equal(count(b1, 'deleteMessage', (d) => d.id === m.id), 1);
  assert.equal(count(a2, 'deleteMessage', (d) => d.id === m.id), 1);

  // The next message still gets the next seq: a deleted message keeps its place.
  assert.equal((await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'after' })).seq, 3);
});

test('deleteMessage permissions: the sender; in a group the owner and admins delete anyone\'s; others FORBIDDEN or NOT_FOUND', async () => {
  const owner = await signUp(fx.relay.http, 'Sue');
  const admin = await signUp(fx.relay.http, 'Tom');
  const member = await signUp(fx.relay.http, 'Uma');
  const stranger = await signUp(fx.relay.http, 'Vic');
  const o1 = await connect(owner);
  const ad1 = await connect(admin);
  const m1 = await connect(member);
  const s1 = await connect(stranger);
  const g = await ok(o1, 'newGroup', { groupName: 'Roles' });
  for (const u of [admin, member]) await ok(o1, 'addUserInGroup', { groupId: g.groupId, userId: u.id });
  // Roles are set by setMemberRole (another type); here straight in the store.
  await store()`update group_members set role = 'admin' where group_id = ${g.groupId} and user_id = ${admin.id}`;

  const byOwner = await ok(o1, 'messageInGroup', { groupId: g.groupId, content: 'owner says' });
  const byAdmin = await ok(ad1, 'messageInGroup', { groupId: g.groupId, content: 'admin says' });
  const byMember: any[] = [];
  for (let i = 0; i < 3; i++) byMember.push(await ok(m1, 'messageInGroup', { groupId: g.groupId, content: `member says ${i}` }));

  const f = await errorOf(m1, 'deleteMessage', { messageId: byOwner.id }, 'FORBIDDEN');
  assert.match(f.message, /owner|admin/);
  await errorOf(m1, 'deleteMessage', { messageId: byAdmin.id }, 'FORBIDDEN');
  await errorOf(s1, 'deleteMessage', { messageId: byMember[0].id }, 'NOT_FOUND');
  await errorOf(s1, 'deleteMessage', { messageId: 2 ** 40 }, 'NOT_FOUND');
  for (const bad of [{}, { messageId: -1 }, { messageId: 1.5 }, { messageId: null }]) await errorOf(m1, 'deleteMessage', bad, 'VALIDATION');

  const own = await ok(m1, 'deleteMessage', { messageId: byMember[0].id });
  assert.equal(own.senderId, member.id);
  const byAdm = await ok(ad1, 'deleteMessage', { messageId: byMember[1].id });
  const pd = assertPush(await m1.push('deleteMessage', (d) => d.id === byMember[1].id), 'deleteMessage', null, 'Tom');
  assert.deepEqual(pd, byAdm, 'senderName is who deleted it');
  await ok(ad1, 'deleteMessage', { messageId: byOwner.id });
  await ok(o1, 'deleteMessage', { messageId: byMember[2].id });
  await ok(o1, 'deleteMessage', { messageId: byAdmin.id });
  const left = await store()<{ n: number }[]>`
    select count(*)::int as n from messages where group_id = ${g.groupId} and (deleted_at is null or content <> '')`;
  assert.equal(left[0]!.n, 0);

  // Demoted: the role is read when deleting.
  const again = await ok(o1, 'messageInGroup', { groupId: g.groupId, content: 'owner again' });
  await store()`update group_members set role = 'member' where group_id = ${g.groupId} and user_id = ${admin.id}`;
  await errorOf(ad1, 'deleteMessage', { messageId: again.id }, 'FORBIDDEN');

  // A dialog: only the sender; the receiver may not; a third user cannot see it.
  const pm = await ok(o1, 'privateMessage', { receiverId: member.id, content: 'between us' });
  await errorOf(m1, 'deleteMessage', { messageId: pm.id }, 'FORBIDDEN');
  await errorOf(ad1, 'deleteMessage', { messageId: pm.id }, 'NOT_FOUND');
  const del = await ok(o1, 'deleteMessage', { messageId: pm.id });
  assert.deepEqual([del.receiverId, del.groupId, del.seq], [member.id, null, 1]);
  const pushed = assertPush(await m1.push('deleteMessage', (d) => d.id === pm.id), 'deleteMessage', null, 'Sue');
  assert.deepEqual(pushed, del);
  const [drow] = await ok(m1, 'getlatestMessageDialog', { receiverId: owner.id });
  assert.deepEqual([drow.content, drow.deletedAt], ['', del.deletedAt]);
});

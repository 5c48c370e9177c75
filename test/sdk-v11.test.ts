// The SDK against a real server, v1.1 (PROTOCOL.md): read state, edit and delete, typing,
// presence, group roles and administration, each request's reply and each push as an event;
// and gap detection by seq.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, signUp, sleep, type Account } from './helpers/client.js';
import { useRelay, ok } from './helpers/protocol.js';
import { connectedSdk, rejectsWith } from './helpers/sdk.js';

const fx = useRelay('sdk_v11', { AUTH_RATE_PER_MINUTE: '100000' });

const EVENTS = ['message', 'markRead', 'editMessage', 'deleteMessage', 'typing', 'presence', 'renameGroup',
  'removeUserFromGroup', 'setMemberRole', 'addUserInGroup', 'leaveGroup', 'open'] as const;

const connected = (a: Account, url = fx.relay.ws) => connectedSdk(url, a.token, [...EVENTS]);

test('seq and read state: send replies and history carry seq; markRead moves the marker, the partner gets a read receipt; the chat list shows unread counts', async () => {
  const a = await signUp(fx.relay.http, 'Reader');
  const b = await signUp(fx.relay.http, 'Writer');
  const { c: ca, rec: ra } = await connected(a);
  const { c: ca2, rec: ra2 } = await connected(a);
  const { c: cb, rec: rb } = await connected(b);

  const m1 = await cb.sendPrivate(a.id, 'one');
  const m2 = await cb.sendPrivate(a.id, 'two');
  assert.equal(m1.seq, 1);
  assert.equal(m2.seq, 2);
  await ra.wait('message', (m) => m.id === m2.id);
  assert.deepEqual(ra.all('message').map((m) => m.seq), [1, 2]);

  const [rowA] = await ca.listChats();
  assert.equal(rowA!.seq, 2);
  assert.equal(rowA!.unreadCount, 2);
  assert.equal(rowA!.lastReadId, null);
  const [rowB] = await cb.listChats();
  assert.equal(rowB!.unreadCount, 0, 'sending moves the sender\'s marker');
  assert.equal(rowB!.peerLastReadId, null);

  const state = await ca.markRead({ receiverId: b.id }, m1.id);
  assert.deepEqual(state, { userId: a.id, receiverId: b.id, groupId: null, lastReadId: m1.id, lastReadSeq: 1, unreadCount: 1 });
  const receipt = await rb.wait('markRead', (p) => p.data.lastReadId === m1.id);
  assert.deepEqual(receipt.data, { userId: a.id, receiverId: b.id, groupId: null, lastReadId: m1.id, lastReadSeq: 1 });
  assert.equal(receipt.senderName, 'Reader');
  const own = await ra2.wait('markRead', (p) => p.data.lastReadId === m1.id);
  assert.equal('unreadCount' in own.data && own.data.unreadCount, 1, 'the reader\'s other connections get the count');
  const [rowB2] = await cb.listChats();
  assert.equal(rowB2!.peerLastReadId, m1.id);

  const history = await ca.dialogHistory(b.id);
  assert.deepEqual(history.map((r) => [r.seq, r.editedAt, r.deletedAt]), [[2, null, null], [1, null, null]]);
  await rejectsWith(ca.markRead({ receiverId: b.id }, 2147483000), 'NOT_FOUND');
});

test('editMessage and deleteMessage: replies, pushes to the conversation, history; only the sender edits', async () => {
  const a = await signUp(fx.relay.http, 'Editor');
  const b = await signUp(fx.relay.http, 'Viewer');
  const { c: ca } = await connected(a);
  const { c: cb, rec: rb } = await connected(b);
  const m = await ca.sendPrivate(b.id, 'draft');

  const edited = await ca.editMessage(m.id, 'final');
  assert.equal(edited.content, 'final');
  assert.equal(edited.id, m.id);
  assert.equal(edited.seq, m.seq);
  assert.equal(typeof edited.editedAt, 'string');
  const editPush = await rb.wait('editMessage', (p) => p.data.id === m.id);
  assert.deepEqual(editPush.data, edited);
  assert.equal(editPush.message, 'final');
  await rejectsWith(cb.editMessage(m.id, 'not mine'), 'FORBIDDEN');

  const deleted = await ca.deleteMessage(m.id);
  assert.equal(deleted.id, m.id);
  assert.equal(typeof deleted.deletedAt, 'string');
  const delPush = await rb.wait('deleteMessage', (p) => p.data.id === m.id);
  assert.deepEqual(delPush.data, deleted);
  assert.equal(delPush.message, null);
  const [row] = await cb.dialogHistory(a.id);
  assert.equal(row!.content, '');
  assert.equal(row!.deletedAt, deleted.deletedAt);
  await rejectsWith(ca.editMessage(m.id, 'again'), 'NOT_FOUND');
});

test('typing reaches the partner (with the partner\'s own id as receiverId); presence: getPresence and presence pushes', async () => {
  const a = await signUp(fx.relay.http, 'Typer');
  const b = await signUp(fx.relay.http, 'Watcher');
  const { c: ca } = await connected(a);
  const { c: cb, rec: rb } = await connected(b);
  await ca.sendPrivate(b.id, 'hi'); // now they share a dialog

  assert.equal(await ca.typing({ receiverId: b.id }), null);
  const t = await rb.wait('typing');
  assert.deepEqual(t.data, { userId: a.id, receiverId: b.id, groupId: null });
  assert.equal(t.senderName, 'Typer');

  const presence = await cb.getPresence([a.id, b.id]);
  assert.deepEqual(presence.map((p) => [p.userId, p.online]), [[a.id, true], [b.id, true]]);

  // A third party comes online: B's client hears of it only if they share a dialog.
  const c = await signUp(fx.relay.http, 'Newcomer');
  const raw = await Client.connect(fx.relay.ws, c.token);
  await ok(raw, 'privateMessage', { receiverId: b.id, content: 'hello' });
  raw.ws.close();
  const off = await rb.wait('presence', (p) => p.data.userId === c.id && !p.data.online, 15_000);
  assert.equal(typeof off.data.lastSeenAt, 'string');
});

test('group administration: getGroup, getGroupMembers, renameGroup, setMemberRole, removeFromGroup with their pushes', async () => {
  const owner = await signUp(fx.relay.http, 'Owner');
  const mate = await signUp(fx.relay.http, 'Mate');
  const extra = await signUp(fx.relay.http, 'Extra');
  const { c: co, rec: ro } = await connected(owner);
  const { c: cm } = await connected(mate);
  const { c: ce, rec: re } = await connected(extra);

  const g = await co.createGroup('Crew');
  await co.addToGroup(g.groupId, mate.id);
  await co.addToGroup(g.groupId, extra.id);
  const info = await cm.getGroup(g.groupId);
  assert.deepEqual({ ...info, createdAt: undefined },
    { groupId: g.groupId, groupName: 'Crew', createdAt: undefined, ownerId: owner.id, memberCount: 3, role: 'member', lastSeq: 0 });
  const members = await cm.getGroupMembers(g.groupId);
  assert.deepEqual(members.map((m) => [m.userId, m.role]), [[owner.id, 'owner'], [mate.id, 'member'], [extra.id, 'member']]);

  await rejectsWith(cm.renameGroup(g.groupId, 'Mutiny'), 'FORBIDDEN');
  assert.equal(await co.setMemberRole(g.groupId, mate.id, 'admin'), null);
  const role = await re.wait('setMemberRole', (p) => p.data.userId === mate.id);
  assert.deepEqual(role.data, { groupId: g.groupId, userId: mate.id, role: 'admin' });

  assert.deepEqual(await cm.renameGroup(g.groupId, 'Crew 2'), { groupId: g.groupId, groupName: 'Crew 2' });
  const renamed = await re.wait('renameGroup');
  assert.deepEqual(renamed.data, { groupId: g.groupId, groupName: 'Crew 2' });
  assert.equal(renamed.message, 'Mate renamed the group to Crew 2');

  assert.equal(await cm.removeFromGroup(g.groupId, extra.id), null);
  const removed = await re.wait('removeUserFromGroup');
  assert.deepEqual(removed.data, { groupId: g.groupId, userId: extra.id, userName: 'Extra' });
  assert.equal(removed.message, 'Extra was removed from Crew 2');
  // Every member gets it, except on the connection that removed (PROTOCOL.md: never the connection that caused it).
  await ro.wait('removeUserFromGroup', (p) => p.data.userId === extra.id);
  await rejectsWith(ce.getGroup(g.groupId), 'FORBIDDEN');
});

test('a seq jump in a live conversation: the client fetches the messages it missed first, then delivers the push, all in order', async () => {
  // A second node without Redis: what B sends there is stored but never pushed to A's node.
  const other = await fx.startAnother({ DATABASE_URL: fx.db.url, AUTH_RATE_PER_MINUTE: '100000' });
  const a = await signUp(fx.relay.http, 'Gappy');
  const b = await signUp(fx.relay.http, 'Sender');
  const { c: ca, rec: ra } = await connected(a);
  const first = await ca.sendPrivate(b.id, 'start');
  assert.equal(first.seq, 1);

  const far = await Client.connect(other.ws, b.token);
  for (const text of ['unseen 1', 'unseen 2']) await ok(far, 'privateMessage', { receiverId: a.id, content: text });
  far.ws.close();
  await sleep(300);
  assert.equal(ra.all('message').length, 0, 'nothing reached A live');

  const near = await Client.connect(fx.relay.ws, b.token);
  const last = await ok(near, 'privateMessage', { receiverId: a.id, content: 'live 3' });
  near.ws.close();
  await ra.wait('message', (m) => m.id === last.id);
  await sleep(300);
  assert.deepEqual(ra.all('message').map((m) => [m.content, m.seq]), [['unseen 1', 2], ['unseen 2', 3], ['live 3', 4]]);
});

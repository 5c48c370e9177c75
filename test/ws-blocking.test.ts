// v1.2 "Blocking" over real sockets: blockUser, unblockUser, getBlockedUsers and their pushes to
// the blocker's other connections; what a block does to privateMessage (both FORBIDDEN messages),
// typing, presence pushes and getPresence (both ways), `blocked` in the chat list; groups and
// the dialog's history unaffected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, signUp, sleep } from './helpers/client.js';
import { useRelay, ok, errorOf, assertPush, assertNoPush, assertIsoDate, count, settle, QUIET_MS, testPubSub } from './helpers/protocol.js';

const GRACE_MS = 800;
const fx = useRelay('ws_blocking', { AUTH_RATE_PER_MINUTE: '100000', PRESENCE_GRACE_MS: String(GRACE_MS), PRESENCE_SWEEP_MS: '100' });
const { connect } = fx;
// Through a broker a push from this node comes back by way of Redis: give a duplicate time to show.
const quiet = (): Promise<void> => (testPubSub() === 'local' ? Promise.resolve() : sleep(QUIET_MS));

test('blockUser / unblockUser: null replies; pushed to the blocker\'s other connections only, and only on a change', async () => {
  const a = await signUp(fx.relay.http, 'Ada');
  const b = await signUp(fx.relay.http, 'Ben');
  const [a1, a2, b1] = await Promise.all([connect(a), connect(a), connect(b)]);

  assert.equal(await ok(a1, 'blockUser', { userId: b.id }), null);
  const d = assertPush(await a2.push('blockUser', (x) => x.userId === b.id), 'blockUser', null, 'Ada');
  assert.deepEqual(d, { userId: b.id });
  // Blocking again changes nothing and pushes nothing.
  assert.equal(await ok(a2, 'blockUser', { userId: b.id }), null);
  await quiet();
  await settle([a1, a2, b1]);
  assert.equal(count(a1, 'blockUser', () => true), 0, 'not to the connection that blocked, nor for the repeat');
  assert.equal(count(a2, 'blockUser', () => true), 1, 'once');
  assert.equal(b1.pushes().filter((f) => f.type === 'blockUser' || f.type === 'unblockUser').length, 0, 'the blocked user is told nothing');

  assert.equal(await ok(a2, 'unblockUser', { userId: b.id }), null);
  assert.deepEqual(assertPush(await a1.push('unblockUser', (x) => x.userId === b.id), 'unblockUser', null, 'Ada'), { userId: b.id });
  assert.equal(await ok(a1, 'unblockUser', { userId: b.id }), null, 'not blocked: changes nothing');
  await quiet();
  await settle([a1, a2, b1]);
  assert.equal(count(a1, 'unblockUser', () => true), 1);
  assert.equal(count(a2, 'unblockUser', () => true), 0);
  assert.equal(b1.pushes().filter((f) => f.type === 'blockUser' || f.type === 'unblockUser').length, 0);
});

test('blockUser errors: oneself VALIDATION; unknown or deleted NOT_FOUND; ids checked', async () => {
  const a = await signUp(fx.relay.http, 'Cy');
  const gone = await signUp(fx.relay.http, 'Gone');
  const a1 = await connect(a);
  await errorOf(a1, 'blockUser', { userId: a.id }, 'VALIDATION');
  await errorOf(a1, 'blockUser', { userId: 2147483647 }, 'NOT_FOUND');
  await errorOf(a1, 'unblockUser', { userId: 2147483647 }, 'NOT_FOUND');
  for (const userId of [undefined, 0, -1, 1.5, '2', 2 ** 31, null]) {
    await errorOf(a1, 'blockUser', { userId }, 'VALIDATION');
    await errorOf(a1, 'unblockUser', { userId }, 'VALIDATION');
  }
  assert.equal((await http(fx.relay.http, 'DELETE', '/profile', { token: gone.token })).status, 200);
  await errorOf(a1, 'blockUser', { userId: gone.id }, 'NOT_FOUND');
  await assertNoPush(a1, 'blockUser', () => true, 'no push for a refused block');
});

test('getBlockedUsers: most recent first, with names and blockedAt; paged; an unblocked user leaves the list', async () => {
  const a = await signUp(fx.relay.http, 'Dee');
  const others = [];
  for (const name of ['One', 'Two', 'Three']) others.push(await signUp(fx.relay.http, name));
  const a1 = await connect(a);
  assert.deepEqual(await ok(a1, 'getBlockedUsers', {}), []);
  for (const o of others) {
    await ok(a1, 'blockUser', { userId: o.id });
    await sleep(5);
  }
  const list = await ok(a1, 'getBlockedUsers', {});
  assert.deepEqual(list.map((r: any) => Object.keys(r).sort()), others.map(() => ['blockedAt', 'firstName', 'lastName', 'userId']));
  assert.deepEqual(list.map((r: any) => [r.userId, r.firstName, r.lastName]), [...others].reverse().map((o) => [o.id, o.firstName, null]));
  for (const r of list) assertIsoDate(r.blockedAt, 'blockedAt');
  assert.ok(list[0].blockedAt >= list[1].blockedAt && list[1].blockedAt >= list[2].blockedAt);
  assert.deepEqual((await ok(a1, 'getBlockedUsers', { limit: 2, page: 2 })).map((r: any) => r.userId), [others[0]!.id]);
  await ok(a1, 'unblockUser', { userId: others[1]!.id });
  assert.deepEqual((await ok(a1, 'getBlockedUsers', {})).map((r: any) => r.userId), [others[2]!.id, others[0]!.id]);
  for (const limit of [0, 101, 'x']) await errorOf(a1, 'getBlockedUsers', { limit }, 'VALIDATION');
  // Only one's own blocks.
  const o1 = await connect(others[0]!);
  assert.deepEqual(await ok(o1, 'getBlockedUsers', {}), []);
});

test('privateMessage across a block: FORBIDDEN both ways with their messages, nothing stored or pushed; history stays; groups unaffected', async () => {
  const a = await signUp(fx.relay.http, 'Eli');
  const b = await signUp(fx.relay.http, 'Fox');
  const [a1, a2, b1, b2] = await Promise.all([connect(a), connect(a), connect(b), connect(b)]);
  const before = await ok(b1, 'privateMessage', { receiverId: a.id, content: 'before the block', clientMessageId: 'resend-me' });
  const g = await ok(a1, 'newGroup', { groupName: 'Both' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  await ok(a1, 'blockUser', { userId: b.id });

  const fromB = await errorOf(b1, 'privateMessage', { receiverId: a.id, content: 'let me in' }, 'FORBIDDEN');
  assert.equal(fromB.message, 'This user does not accept your messages');
  const fromA = await errorOf(a1, 'privateMessage', { receiverId: b.id, content: 'hush' }, 'FORBIDDEN');
  assert.equal(fromA.message, 'Unblock this user to message them');
  await errorOf(b1, 'privateMessage', { receiverId: a.id, content: 'with an id', clientMessageId: 'new-one' }, 'FORBIDDEN');
  // A resend of what was stored before the block is answered with it, as always.
  assert.deepEqual(await ok(b2, 'privateMessage', { receiverId: a.id, content: 'before the block', clientMessageId: 'resend-me' }), before);

  await quiet();
  for (const c of [a1, a2, b1, b2]) await assertNoPush(c, 'privateMessage', (d) => d.id > before.id, 'nothing pushed across the block');
  // Nothing stored: the dialog's history and both chat lists are as before, and readable to both.
  for (const [c, peer] of [[a1, b.id], [b1, a.id]] as const) {
    const rows = await ok(c, 'getlatestMessageDialog', { receiverId: peer });
    assert.deepEqual(rows.map((r: any) => r.id), [before.id]);
  }
  const [chat] = (await ok(b1, 'listLastMessage', {})).filter((r: any) => r.groupId === null);
  assert.equal(chat.id, before.id);

  // The group is not affected, either way.
  const gm = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'in the group' });
  await a1.push('messageInGroup', (d) => d.id === gm.id);
  const ga = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'heard you' });
  await b1.push('messageInGroup', (d) => d.id === ga.id);

  // Blocks in both directions: each sender is told to lift its own first.
  await ok(b1, 'blockUser', { userId: a.id });
  assert.equal((await errorOf(b1, 'privateMessage', { receiverId: a.id, content: 'x' }, 'FORBIDDEN')).message, 'Unblock this user to message them');
  await ok(b1, 'unblockUser', { userId: a.id });

  await ok(a2, 'unblockUser', { userId: b.id });
  const after = await ok(b1, 'privateMessage', { receiverId: a.id, content: 'after the unblock' });
  await a1.push('privateMessage', (d) => d.id === after.id);
  assert.equal(after.seq, before.seq + 1, 'no seq was spent on the refused sends');
});

test('a never-messaged pair: a refused first message makes no dialog', async () => {
  const a = await signUp(fx.relay.http, 'Gil');
  const b = await signUp(fx.relay.http, 'Hal');
  const [a1, b1] = await Promise.all([connect(a), connect(b)]);
  await ok(a1, 'blockUser', { userId: b.id });
  await errorOf(b1, 'privateMessage', { receiverId: a.id, content: 'hello?' }, 'FORBIDDEN');
  assert.deepEqual(await ok(b1, 'listLastMessage', {}), []);
  assert.deepEqual(await ok(a1, 'listLastMessage', {}), []);
});

test('listLastMessage: `blocked` is true on the blocker\'s row of the blocked partner, false otherwise and for groups', async () => {
  const a = await signUp(fx.relay.http, 'Ivy');
  const b = await signUp(fx.relay.http, 'Jon');
  const c = await signUp(fx.relay.http, 'Kim');
  const [a1, b1] = await Promise.all([connect(a), connect(b)]);
  await ok(a1, 'privateMessage', { receiverId: b.id, content: 'to b' });
  await ok(b1, 'privateMessage', { receiverId: a.id, content: 'b answers last' });
  await ok(a1, 'privateMessage', { receiverId: c.id, content: 'to c' });
  await ok(a1, 'privateMessage', { receiverId: a.id, content: 'note' });
  const g = await ok(a1, 'newGroup', { groupName: 'G' });
  await ok(a1, 'blockUser', { userId: b.id });
  const rows = await ok(a1, 'listLastMessage', {});
  const flags = Object.fromEntries(rows.map((r: any) => [r.groupId !== null ? `g${r.groupId}` : `u${r.senderId === a.id ? r.receiverId : r.senderId}`, r.blocked]));
  assert.deepEqual(flags, { [`u${b.id}`]: true, [`u${c.id}`]: false, [`u${a.id}`]: false, [`g${g.groupId}`]: false });
  // The blocked side sees nothing of it.
  assert.deepEqual((await ok(b1, 'listLastMessage', {})).map((r: any) => r.blocked), [false]);
  await ok(a1, 'unblockUser', { userId: b.id });
  assert.ok((await ok(a1, 'listLastMessage', {})).every((r: any) => r.blocked === false));
});

test('typing across a block is answered null and pushed to no one, either way; group typing is unaffected', async () => {
  const a = await signUp(fx.relay.http, 'Lou');
  const b = await signUp(fx.relay.http, 'Max');
  const [a1, a2, b1] = await Promise.all([connect(a), connect(a), connect(b)]);
  await ok(a1, 'privateMessage', { receiverId: b.id, content: 'hi' });
  const g = await ok(a1, 'newGroup', { groupName: 'Typists' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  await ok(b1, 'blockUser', { userId: a.id });

  assert.equal(await ok(a1, 'typing', { receiverId: b.id }), null);
  assert.equal(await ok(b1, 'typing', { receiverId: a.id }), null);
  await quiet();
  await assertNoPush(b1, 'typing', (d) => d.groupId === null, 'blocked user\'s typing reaches the blocker');
  for (const c of [a1, a2]) await assertNoPush(c, 'typing', (d) => d.groupId === null, 'blocker\'s typing reaches the blocked user');

  // In the group: as before.
  await ok(a1, 'typing', { groupId: g.groupId });
  await b1.push('typing', (d) => d.groupId === g.groupId && d.userId === a.id);
  await ok(b1, 'typing', { groupId: g.groupId });
  await a1.push('typing', (d) => d.groupId === g.groupId && d.userId === b.id);

  // Unblocked: typing in the dialog is pushed again (after the 1 s throttle of the last push).
  await ok(b1, 'unblockUser', { userId: a.id });
  await sleep(1100);
  await ok(a1, 'typing', { receiverId: b.id });
  await b1.push('typing', (d) => d.groupId === null && d.userId === a.id);
});

test('presence across a block: no pushes either way, getPresence shows offline with no lastSeenAt both ways, even in a shared group', async () => {
  const a = await signUp(fx.relay.http, 'Nia');
  const b = await signUp(fx.relay.http, 'Oto');
  const c = await signUp(fx.relay.http, 'Pia');
  const a1 = await connect(a);
  const c1 = await connect(c);
  await ok(a1, 'privateMessage', { receiverId: b.id, content: 'hi' });
  await ok(c1, 'privateMessage', { receiverId: b.id, content: 'hi too' });
  await ok(c1, 'privateMessage', { receiverId: a.id, content: 'and you' });
  const g = await ok(a1, 'newGroup', { groupName: 'Shared' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  await ok(a1, 'blockUser', { userId: b.id });

  // b comes online: c (a partner) is told, a is not.
  const b1 = await connect(b);
  await c1.push('presence', (d) => d.userId === b.id && d.online === true);
  await quiet();
  await assertNoPush(a1, 'presence', (d) => d.userId === b.id, 'b online reached a');
  assert.deepEqual(await ok(a1, 'getPresence', { userIds: [b.id, c.id] }), [
    { userId: b.id, online: false, lastSeenAt: null }, { userId: c.id, online: true, lastSeenAt: null }]);
  assert.deepEqual(await ok(b1, 'getPresence', { userIds: [a.id, c.id] }), [
    { userId: a.id, online: false, lastSeenAt: null }, { userId: c.id, online: true, lastSeenAt: null }]);

  // a goes offline and back: c is told both, b neither.
  await a1.close();
  await c1.push('presence', (d) => d.userId === a.id && d.online === false, GRACE_MS + 3000);
  const a3 = await connect(a);
  await c1.push('presence', (d) => d.userId === a.id && d.online === true);
  await quiet();
  await assertNoPush(b1, 'presence', (d) => d.userId === a.id, 'a\'s changes reached b');
  await assertNoPush(a3, 'presence', (d) => d.userId === b.id, 'b reached a');

  // Unblocked: presence flows again, and getPresence tells the truth.
  await ok(a3, 'unblockUser', { userId: b.id });
  assert.deepEqual(await ok(a3, 'getPresence', { userIds: [b.id] }), [{ userId: b.id, online: true, lastSeenAt: null }]);
  await b1.close();
  await a3.push('presence', (d) => d.userId === b.id && d.online === false, GRACE_MS + 3000);
});

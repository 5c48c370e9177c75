// Groups: newGroup, addUserInGroup, leaveGroup replies and pushes, and membership changes taking
// effect at once on live connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp } from './helpers/client.js';
import { useRelay, settle, assertIsoDate, ok, assertPush, errorOf, assertNoPush, count } from './helpers/protocol.js';

const fx = useRelay('ws_groups', { AUTH_RATE_PER_MINUTE: '100000' });
const { connect } = fx;

test('newGroup: reply {groupId, groupName, createdAt}; the creator\'s other connections get the push and join', async () => {
  const a = await signUp(fx.relay.http, 'Creator');
  const b = await signUp(fx.relay.http, 'Stranger');
  const a1 = await connect(a);
  const a2 = await connect(a, 'protocol');
  const a3 = await connect(a);
  const b1 = await connect(b);

  const data = await ok(a1, 'newGroup', { groupName: '  Book club  ' });
  assert.deepEqual(Object.keys(data).sort(), ['createdAt', 'groupId', 'groupName']);
  assert.ok(Number.isInteger(data.groupId) && data.groupId > 0);
  assert.equal(data.groupName, 'Book club', 'the name is stored trimmed');
  assertIsoDate(data.createdAt, 'createdAt');

  for (const conn of [a2, a3]) {
    const pd = assertPush(await conn.push('newGroup', (d) => d.groupId === data.groupId), 'newGroup', 'Book club was created', 'Creator');
    assert.deepEqual(pd, data);
  }
  await assertNoPush(a1, 'newGroup', () => true, 'the creating connection');
  await assertNoPush(b1, 'newGroup', () => true, 'a stranger', 0);

  // The creator is the first and only member; the other connections now receive the group's messages.
  assert.deepEqual(await ok(a2, 'getlatestMessageGroup', { groupId: data.groupId }), []);
  const m = await ok(a2, 'messageInGroup', { groupId: data.groupId, content: 'first!' });
  await a1.push('messageInGroup', (d) => d.id === m.id);
  await a3.push('messageInGroup', (d) => d.id === m.id);
  await assertNoPush(b1, 'messageInGroup', () => true, 'a stranger');

  // A name of 100 code points (not UTF-16 units) is fine.
  const long = await ok(a1, 'newGroup', { groupName: '🎲'.repeat(100) });
  assert.equal(long.groupName, '🎲'.repeat(100));
});

test('addUserInGroup: reply null; all members and every connection of the added user get the push', async () => {
  const a = await signUp(fx.relay.http, 'Adder');
  const m = await signUp(fx.relay.http, 'Member');
  const n = await signUp(fx.relay.http, 'Newbie');
  const o = await signUp(fx.relay.http, 'Onlooker');
  const a1 = await connect(a);
  const a2 = await connect(a);
  const m1 = await connect(m);
  const n1 = await connect(n);
  const n2 = await connect(n, 'protocol');
  const n3 = await connect(n);
  const o1 = await connect(o);

  const g = await ok(a1, 'newGroup', { groupName: 'Crew' });
  assert.equal(await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: m.id }), null);
  const mAdded = assertPush(await m1.push('addUserInGroup', (d) => d.userId === m.id), 'addUserInGroup', 'Member was added to Crew', 'Adder');
  assert.deepEqual(mAdded, { groupId: g.groupId, groupName: 'Crew', userId: m.id, userName: 'Member' });

  // A member who is not the creator adds someone: the adder's name is the senderName.
  assert.equal(await ok(m1, 'addUserInGroup', { groupId: g.groupId, userId: n.id }), null);
  const expected = { groupId: g.groupId, groupName: 'Crew', userId: n.id, userName: 'Newbie' };
  for (const conn of [a1, a2, n1, n2, n3]) {
    const pd = assertPush(await conn.push('addUserInGroup', (d) => d.userId === n.id), 'addUserInGroup', 'Newbie was added to Crew', 'Member');
    assert.deepEqual(pd, expected);
  }
  await assertNoPush(m1, 'addUserInGroup', (d) => d.userId === n.id, 'the adding connection');
  await assertNoPush(o1, 'addUserInGroup', () => true, 'a non-member', 0);
  for (const conn of [a1, a2, n1, n2, n3]) assert.equal(count(conn, 'addUserInGroup', (d) => d.userId === n.id), 1, 'exactly once');
});

test('a user added to a group gets its messages at once on every already-open connection', async () => {
  const a = await signUp(fx.relay.http, 'Host');
  const b = await signUp(fx.relay.http, 'Guest');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const b2 = await connect(b, 'protocol');
  const g = await ok(a1, 'newGroup', { groupName: 'Live' });
  const before = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'before B joined' });
  await assertNoPush(b1, 'messageInGroup', () => true, 'not yet a member');

  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  // No wait between the add and the message: the subscription is in place when the reply is sent.
  const msg = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'welcome' });
  for (const conn of [b1, b2]) {
    assertPush(await conn.push('messageInGroup', (d) => d.id === msg.id), 'messageInGroup', 'welcome', 'Host');
    assert.equal(count(conn, 'messageInGroup', (d) => d.id === before.id), 0, 'no push for what came before');
  }
  // B writes from b2: a1 and b1 get it.
  const fromB = await ok(b2, 'messageInGroup', { groupId: g.groupId, content: 'thanks' });
  await a1.push('messageInGroup', (d) => d.id === fromB.id);
  await b1.push('messageInGroup', (d) => d.id === fromB.id);
  // A connection opened after the add is subscribed from the start.
  const b3 = await connect(b);
  const later = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'later' });
  await b3.push('messageInGroup', (d) => d.id === later.id);
});

test('addUserInGroup errors: not a member (FORBIDDEN), twice (CONFLICT), no such account (NOT_FOUND)', async () => {
  const a = await signUp(fx.relay.http, 'Admin');
  const b = await signUp(fx.relay.http, 'Bystander');
  const c = await signUp(fx.relay.http, 'Candidate');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const c1 = await connect(c);
  const g = await ok(a1, 'newGroup', { groupName: 'Gate' });

  let f = await errorOf(b1, 'addUserInGroup', { groupId: g.groupId, userId: c.id }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  f = await errorOf(b1, 'addUserInGroup', { groupId: g.groupId, userId: b.id }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group', 'nobody adds themselves');
  f = await errorOf(a1, 'addUserInGroup', { groupId: 2147483647, userId: c.id }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group', 'a group that does not exist');

  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: c.id });
  f = await errorOf(a1, 'addUserInGroup', { groupId: g.groupId, userId: c.id }, 'CONFLICT');
  assert.match(f.message, /already a member/i);
  await errorOf(a1, 'addUserInGroup', { groupId: g.groupId, userId: a.id }, 'CONFLICT');
  f = await errorOf(a1, 'addUserInGroup', { groupId: g.groupId, userId: 2147483647 }, 'NOT_FOUND');
  assert.match(f.message, /not found/i);

  // None of the refused adds pushed anything or changed membership.
  await settle([c1, b1]);
  assert.equal(count(c1, 'addUserInGroup', (d) => d.groupId === g.groupId), 1, 'C was told once');
  assert.equal(count(b1, 'addUserInGroup', () => true), 0);
  await errorOf(b1, 'getlatestMessageGroup', { groupId: g.groupId }, 'FORBIDDEN');
});

test('leaveGroup: reply null; remaining members and the leaver\'s other connections get the push; no more messages after', async () => {
  const a = await signUp(fx.relay.http, 'Stayer');
  const b = await signUp(fx.relay.http, 'Leaver');
  const c = await signUp(fx.relay.http, 'Third');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const b2 = await connect(b, 'protocol');
  const b3 = await connect(b);
  const c1 = await connect(c);
  const g = await ok(a1, 'newGroup', { groupName: 'Exit' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: c.id });
  const m0 = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'all here' });
  for (const conn of [b1, b2, b3]) await conn.push('messageInGroup', (d) => d.id === m0.id);

  assert.equal(await ok(b1, 'leaveGroup', { groupId: g.groupId }), null);
  const expected = { groupId: g.groupId, userId: b.id };
  for (const conn of [a1, c1, b2, b3]) {
    const pd = assertPush(await conn.push('leaveGroup', (d) => d.userId === b.id), 'leaveGroup', 'Leaver left the group', 'Leaver');
    assert.deepEqual(pd, expected);
  }
  await assertNoPush(b1, 'leaveGroup', () => true, 'the leaving connection');

  // At once: the next message reaches the remaining members only.
  const m1 = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'B is gone' });
  await c1.push('messageInGroup', (d) => d.id === m1.id);
  for (const conn of [b1, b2, b3]) await assertNoPush(conn, 'messageInGroup', (d) => d.id === m1.id, 'a connection of the leaver');
  // Nor are later membership events pushed to the leaver.
  const d = await signUp(fx.relay.http, 'Dora');
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: d.id });
  await c1.push('addUserInGroup', (x) => x.userId === d.id);
  for (const conn of [b1, b2, b3]) await assertNoPush(conn, 'addUserInGroup', (x) => x.userId === d.id, 'the leaver', 0);

  // The leaver can no longer read, write or leave again.
  let f = await errorOf(b2, 'getlatestMessageGroup', { groupId: g.groupId }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  f = await errorOf(b2, 'messageInGroup', { groupId: g.groupId, content: 'hello?' }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  f = await errorOf(b1, 'leaveGroup', { groupId: g.groupId }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  // Leaving a group that does not exist is the same error.
  await errorOf(b1, 'leaveGroup', { groupId: 2147483647 }, 'FORBIDDEN');

  // Added back: live again on all three connections.
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const m2 = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'welcome back' });
  for (const conn of [b1, b2, b3]) await conn.push('messageInGroup', (x) => x.id === m2.id);
});

test('the last member leaving empties the group; nobody can then read it', async () => {
  const a = await signUp(fx.relay.http, 'Last');
  const a1 = await connect(a);
  const a2 = await connect(a);
  const g = await ok(a1, 'newGroup', { groupName: 'Solo' });
  await a2.push('newGroup', (d) => d.groupId === g.groupId);
  await ok(a1, 'leaveGroup', { groupId: g.groupId });
  assertPush(await a2.push('leaveGroup', (d) => d.groupId === g.groupId), 'leaveGroup', 'Last left the group', 'Last');
  await errorOf(a2, 'getlatestMessageGroup', { groupId: g.groupId }, 'FORBIDDEN');
  const list = await ok(a1, 'listLastMessage', {});
  assert.equal(list.filter((r: any) => r.groupId === g.groupId).length, 0);
});

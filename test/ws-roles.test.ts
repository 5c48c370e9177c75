// Group roles and administration (PROTOCOL.md v1.1): getGroup, getGroupMembers, renameGroup,
// removeUserFromGroup, setMemberRole, ownership passing on, their pushes and every refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, signUp, sleep, type Account } from './helpers/client.js';
import { useRelay, assertIsoDate, ok, assertPush, errorOf, assertNoPush, count, QUIET_MS } from './helpers/protocol.js';
import type { Client } from './helpers/client.js';
import postgres from 'postgres';

const fx = useRelay('ws_roles', { AUTH_RATE_PER_MINUTE: '100000' });
const { connect } = fx;

/** A group made by `owner` with `members` added in this order (so they joined in this order). */
async function group(owner: Client, name: string, members: Account[]): Promise<number> {
  const { groupId } = await ok(owner, 'newGroup', { groupName: name });
  for (const m of members) await ok(owner, 'addUserInGroup', { groupId, userId: m.id });
  return groupId as number;
}

test('getGroup: {groupId, groupName, createdAt, ownerId, memberCount, role}, members only', async () => {
  const o = await signUp(fx.relay.http, 'Olga');
  const m = await signUp(fx.relay.http, 'Max');
  const x = await signUp(fx.relay.http, 'Xeno');
  const o1 = await connect(o);
  const m1 = await connect(m);
  const x1 = await connect(x);
  const created = await ok(o1, 'newGroup', { groupName: 'Club' });
  await ok(o1, 'addUserInGroup', { groupId: created.groupId, userId: m.id });

  const g = await ok(o1, 'getGroup', { groupId: created.groupId });
  assert.deepEqual(Object.keys(g).sort(), ['createdAt', 'groupId', 'groupName', 'lastSeq', 'memberCount', 'ownerId', 'role']);
  assert.deepEqual({ ...g, createdAt: undefined }, { groupId: created.groupId, groupName: 'Club', createdAt: undefined, ownerId: o.id, memberCount: 2, role: 'owner', lastSeq: 0 });
  assertIsoDate(g.createdAt, 'createdAt');
  assert.equal(g.createdAt, created.createdAt);
  assert.equal((await ok(m1, 'getGroup', { groupId: created.groupId })).role, 'member');

  let f = await errorOf(x1, 'getGroup', { groupId: created.groupId }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  f = await errorOf(x1, 'getGroup', { groupId: 2147483647 }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  await errorOf(x1, 'getGroup', {}, 'VALIDATION');
  await errorOf(x1, 'getGroup', { groupId: '1' }, 'VALIDATION');
});

test('getGroupMembers: longest-standing first, with roles; paging; members only', async () => {
  const o = await signUp(fx.relay.http, 'Owen');
  const a = await signUp(fx.relay.http, 'Ada');
  const b = await signUp(fx.relay.http, 'Bob');
  const x = await signUp(fx.relay.http, 'Xavier');
  const o1 = await connect(o);
  const x1 = await connect(x);
  const gid = await group(o1, 'Team', [a, b]);
  await ok(o1, 'setMemberRole', { groupId: gid, userId: b.id, role: 'admin' });

  const all = await ok(o1, 'getGroupMembers', { groupId: gid });
  assert.deepEqual(all.map((r: any) => [r.userId, r.role, r.firstName]), [[o.id, 'owner', 'Owen'], [a.id, 'member', 'Ada'], [b.id, 'admin', 'Bob']]);
  for (const r of all) {
    assert.deepEqual(Object.keys(r).sort(), ['firstName', 'joinedAt', 'lastName', 'lastReadId', 'role', 'userId']);
    assert.equal(r.lastReadId, null, 'nothing sent yet: nothing read');
    assertIsoDate(r.joinedAt, 'joinedAt');
    assert.equal(r.lastName, null);
  }
  assert.deepEqual((await ok(o1, 'getGroupMembers', { groupId: gid, limit: 2, page: 2 })).map((r: any) => r.userId), [b.id]);
  assert.deepEqual(await ok(o1, 'getGroupMembers', { groupId: gid, limit: 2, page: 3 }), []);

  const f = await errorOf(x1, 'getGroupMembers', { groupId: gid }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  await errorOf(o1, 'getGroupMembers', { groupId: gid, limit: 101 }, 'VALIDATION');
  await errorOf(o1, 'getGroupMembers', { groupId: gid, page: 0 }, 'VALIDATION');
});

test('renameGroup: owner or admin; every member gets the push (not the renaming connection); members are refused', async () => {
  const o = await signUp(fx.relay.http, 'Rita');
  const a = await signUp(fx.relay.http, 'Adam');
  const m = await signUp(fx.relay.http, 'Mona');
  const x = await signUp(fx.relay.http, 'Xia');
  const o1 = await connect(o);
  const o2 = await connect(o);
  const a1 = await connect(a);
  const m1 = await connect(m);
  const x1 = await connect(x);
  const gid = await group(o1, 'Old name', [a, m]);
  await ok(o1, 'setMemberRole', { groupId: gid, userId: a.id, role: 'admin' });

  assert.deepEqual(await ok(o1, 'renameGroup', { groupId: gid, groupName: '  New name ' }), { groupId: gid, groupName: 'New name' });
  for (const c of [o2, a1, m1]) {
    const d = assertPush(await c.push('renameGroup', (x) => x.groupId === gid), 'renameGroup', 'Rita renamed the group to New name', 'Rita');
    assert.deepEqual(d, { groupId: gid, groupName: 'New name' });
  }
  await assertNoPush(o1, 'renameGroup', () => true, 'the renaming connection');
  await assertNoPush(x1, 'renameGroup', () => true, 'a stranger', 0);

  // An admin may rename too.
  await ok(a1, 'renameGroup', { groupId: gid, groupName: 'Third' });
  await m1.push('renameGroup', (x) => x.groupName === 'Third');
  assert.equal((await ok(m1, 'getGroup', { groupId: gid })).groupName, 'Third');

  let f = await errorOf(m1, 'renameGroup', { groupId: gid, groupName: 'Mine' }, 'FORBIDDEN');
  assert.match(f.message, /owner or an admin/);
  f = await errorOf(x1, 'renameGroup', { groupId: gid, groupName: 'Mine' }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  await errorOf(o1, 'renameGroup', { groupId: gid, groupName: '   ' }, 'VALIDATION');
  await errorOf(o1, 'renameGroup', { groupId: gid, groupName: 'x'.repeat(101) }, 'VALIDATION');
  await errorOf(o1, 'renameGroup', { groupId: gid }, 'VALIDATION');
  assert.equal((await ok(o1, 'getGroup', { groupId: gid })).groupName, 'Third', 'refusals change nothing');
});

test('setMemberRole: owner only; the push goes to all members; same role again is null without a push', async () => {
  const o = await signUp(fx.relay.http, 'Sam');
  const a = await signUp(fx.relay.http, 'Ann');
  const m = await signUp(fx.relay.http, 'Mia');
  const x = await signUp(fx.relay.http, 'Xu');
  const o1 = await connect(o);
  const o2 = await connect(o);
  const a1 = await connect(a);
  const m1 = await connect(m);
  const x1 = await connect(x);
  const gid = await group(o1, 'Roles', [a, m]);

  assert.equal(await ok(o1, 'setMemberRole', { groupId: gid, userId: a.id, role: 'admin' }), null);
  for (const c of [o2, a1, m1]) {
    const d = assertPush(await c.push('setMemberRole', (x) => x.userId === a.id), 'setMemberRole', null as unknown as string, 'Sam');
    assert.deepEqual(d, { groupId: gid, userId: a.id, role: 'admin' });
  }
  await assertNoPush(o1, 'setMemberRole', () => true, 'the connection that set it');
  await assertNoPush(x1, 'setMemberRole', () => true, 'a stranger', 0);

  // Already admin: null, nothing pushed.
  assert.equal(await ok(o1, 'setMemberRole', { groupId: gid, userId: a.id, role: 'admin' }), null);
  await sleep(QUIET_MS);
  for (const c of [o2, a1, m1]) assert.equal(count(c, 'setMemberRole', () => true), 1, 'a repeated role pushes nothing');

  let f = await errorOf(a1, 'setMemberRole', { groupId: gid, userId: m.id, role: 'admin' }, 'FORBIDDEN');
  assert.match(f.message, /Only the group owner/);
  f = await errorOf(m1, 'setMemberRole', { groupId: gid, userId: a.id, role: 'member' }, 'FORBIDDEN');
  assert.match(f.message, /Only the group owner/);
  f = await errorOf(o1, 'setMemberRole', { groupId: gid, userId: o.id, role: 'member' }, 'FORBIDDEN');
  assert.match(f.message, /leaving/);
  f = await errorOf(o1, 'setMemberRole', { groupId: gid, userId: x.id, role: 'admin' }, 'NOT_FOUND');
  assert.match(f.message, /not a member/);
  f = await errorOf(x1, 'setMemberRole', { groupId: gid, userId: a.id, role: 'member' }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  f = await errorOf(o1, 'setMemberRole', { groupId: gid, userId: a.id, role: 'owner' }, 'VALIDATION');
  assert.match(f.message, /role/);
  await errorOf(o1, 'setMemberRole', { groupId: gid, userId: a.id }, 'VALIDATION');

  // Back to member: pushed again.
  await ok(o1, 'setMemberRole', { groupId: gid, userId: a.id, role: 'member' });
  await m1.push('setMemberRole', (d) => d.userId === a.id && d.role === 'member');
  assert.equal((await ok(a1, 'getGroup', { groupId: gid })).role, 'member');
});

test('removeUserFromGroup: who may remove whom; the removed user gets the push, then nothing more, and can be added again', async () => {
  const o = await signUp(fx.relay.http, 'Oscar');
  const a = await signUp(fx.relay.http, 'Alice');
  const a2u = await signUp(fx.relay.http, 'Arthur');
  const m = await signUp(fx.relay.http, 'Milo');
  const n = await signUp(fx.relay.http, 'Nina');
  const x = await signUp(fx.relay.http, 'Xander');
  const o1 = await connect(o);
  const a1 = await connect(a);
  const b1 = await connect(a2u);
  const m1 = await connect(m);
  const m2 = await connect(m, 'protocol');
  const n1 = await connect(n);
  const x1 = await connect(x);
  const gid = await group(o1, 'Moderated', [a, a2u, m, n]);
  await ok(o1, 'setMemberRole', { groupId: gid, userId: a.id, role: 'admin' });
  await ok(o1, 'setMemberRole', { groupId: gid, userId: a2u.id, role: 'admin' });

  // Refusals first: each says what is needed, and changes nothing.
  let f = await errorOf(n1, 'removeUserFromGroup', { groupId: gid, userId: m.id }, 'FORBIDDEN');
  assert.match(f.message, /owner or an admin/);
  f = await errorOf(a1, 'removeUserFromGroup', { groupId: gid, userId: a2u.id }, 'FORBIDDEN');
  assert.match(f.message, /Only the group owner can remove an admin/);
  f = await errorOf(a1, 'removeUserFromGroup', { groupId: gid, userId: o.id }, 'FORBIDDEN');
  assert.match(f.message, /owner/);
  f = await errorOf(o1, 'removeUserFromGroup', { groupId: gid, userId: o.id }, 'FORBIDDEN');
  assert.match(f.message, /leaveGroup/);
  f = await errorOf(a1, 'removeUserFromGroup', { groupId: gid, userId: x.id }, 'NOT_FOUND');
  assert.match(f.message, /not a member/);
  f = await errorOf(x1, 'removeUserFromGroup', { groupId: gid, userId: m.id }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  await errorOf(a1, 'removeUserFromGroup', { groupId: gid, userId: -1 }, 'VALIDATION');
  assert.equal((await ok(o1, 'getGroup', { groupId: gid })).memberCount, 5);

  // An admin removes a member: everyone, the removed user's every connection included, is told.
  assert.equal(await ok(a1, 'removeUserFromGroup', { groupId: gid, userId: m.id }), null);
  for (const c of [o1, b1, n1, m1, m2]) {
    const d = assertPush(await c.push('removeUserFromGroup', (x) => x.userId === m.id), 'removeUserFromGroup', 'Milo was removed from Moderated', 'Alice');
    assert.deepEqual(d, { groupId: gid, userId: m.id, userName: 'Milo' });
  }
  await assertNoPush(a1, 'removeUserFromGroup', () => true, 'the removing connection');
  // At once: the next message does not reach the removed user's sockets.
  const msg = await ok(o1, 'messageInGroup', { groupId: gid, content: 'after the removal' });
  await n1.push('messageInGroup', (d) => d.id === msg.id);
  for (const c of [m1, m2]) await assertNoPush(c, 'messageInGroup', (d) => d.id === msg.id, 'the removed user');
  f = await errorOf(m1, 'getlatestMessageGroup', { groupId: gid }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');

  // The owner removes an admin.
  await ok(o1, 'removeUserFromGroup', { groupId: gid, userId: a2u.id });
  await b1.push('removeUserFromGroup', (d) => d.userId === a2u.id);
  // Removed twice: not a member any more.
  await errorOf(o1, 'removeUserFromGroup', { groupId: gid, userId: a2u.id }, 'NOT_FOUND');

  // A removed user may be added again, and is live again.
  await ok(n1, 'addUserInGroup', { groupId: gid, userId: m.id });
  const back = await ok(o1, 'messageInGroup', { groupId: gid, content: 'welcome back' });
  for (const c of [m1, m2]) await c.push('messageInGroup', (d) => d.id === back.id);
  assert.equal((await ok(m1, 'getGroup', { groupId: gid })).role, 'member');
});

test('the owner leaving: the earliest admin becomes owner, else the earliest member; a setMemberRole push says so', async () => {
  const o = await signUp(fx.relay.http, 'First');
  const m = await signUp(fx.relay.http, 'Early');
  const a = await signUp(fx.relay.http, 'Admin');
  const o1 = await connect(o);
  const o2 = await connect(o);
  const m1 = await connect(m);
  const a1 = await connect(a);
  const gid = await group(o1, 'Succession', [m, a]);
  await ok(o1, 'setMemberRole', { groupId: gid, userId: a.id, role: 'admin' });

  await ok(o1, 'leaveGroup', { groupId: gid });
  for (const c of [m1, a1]) {
    const d = assertPush(await c.push('setMemberRole', (x) => x.role === 'owner'), 'setMemberRole', null as unknown as string, 'First');
    assert.deepEqual(d, { groupId: gid, userId: a.id, role: 'owner' }, 'the admin, though the member joined earlier');
  }
  await assertNoPush(o2, 'setMemberRole', (d) => d.role === 'owner', 'the leaver');
  const info = await ok(m1, 'getGroup', { groupId: gid });
  assert.equal(info.ownerId, a.id);
  assert.equal(info.memberCount, 2);
  // The new owner has the owner's powers.
  await ok(a1, 'setMemberRole', { groupId: gid, userId: m.id, role: 'admin' });

  // No admins left: the earliest member. Here the admin (new owner) leaves; Early is an admin now, so
  // demote first to check the member rule.
  await ok(a1, 'setMemberRole', { groupId: gid, userId: m.id, role: 'member' });
  const late = await signUp(fx.relay.http, 'Late');
  const l1 = await connect(late);
  await ok(a1, 'addUserInGroup', { groupId: gid, userId: late.id });
  await ok(a1, 'leaveGroup', { groupId: gid });
  const d = (await l1.push('setMemberRole', (x) => x.role === 'owner')).params.data;
  assert.deepEqual(d, { groupId: gid, userId: m.id, role: 'owner' });

  // A member leaving passes nothing on.
  await ok(l1, 'leaveGroup', { groupId: gid });
  await sleep(QUIET_MS);
  assert.equal(count(m1, 'setMemberRole', (x) => x.role === 'owner'), 2, 'a member leaving passes nothing on');
  // The last member leaving leaves the group without owner; its history stays.
  await ok(m1, 'messageInGroup', { groupId: gid, content: 'last words' });
  await ok(m1, 'leaveGroup', { groupId: gid });
  const db = postgres(fx.db.url, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await db`select count(*)::int as n from messages where group_id = ${gid}`;
    assert.equal(row!.n, 1, 'the history stays');
    const [owners] = await db`select count(*)::int as n from group_members where group_id = ${gid}`;
    assert.equal(owners!.n, 0);
  } finally {
    await db.end();
  }
});

test('a deleted owner passes ownership on, as when leaving', async () => {
  const o = await signUp(fx.relay.http, 'Doomed');
  const m = await signUp(fx.relay.http, 'Heir');
  const o1 = await connect(o);
  const m1 = await connect(m);
  const gid = await group(o1, 'Legacy', [m]);
  const res = await http(fx.relay.http, 'DELETE', '/profile', { token: o.token });
  assert.equal(res.status, 200);
  await m1.push('leaveGroup', (d) => d.userId === o.id);
  const d = assertPush(await m1.push('setMemberRole', (x) => x.groupId === gid), 'setMemberRole', null as unknown as string, 'Doomed');
  assert.deepEqual(d, { groupId: gid, userId: m.id, role: 'owner' });
  assert.equal((await ok(m1, 'getGroup', { groupId: gid })).ownerId, m.id);
});

test('the owner and its successor leaving at the same moment: exactly one owner remains', async () => {
  const o = await signUp(fx.relay.http, 'Queen');
  const heir = await signUp(fx.relay.http, 'Prince');
  const next = await signUp(fx.relay.http, 'Duke');
  const last = await signUp(fx.relay.http, 'Earl');
  const o1 = await connect(o);
  const h1 = await connect(heir);
  const n1 = await connect(next);
  const gid = await group(o1, 'Throne', [heir, next, last]);
  const [a, b] = await Promise.all([o1.request('leaveGroup', { groupId: gid }), h1.request('leaveGroup', { groupId: gid })]);
  assert.equal(a.success, true);
  assert.equal(b.success, true);
  const members = await ok(n1, 'getGroupMembers', { groupId: gid });
  assert.deepEqual(members.map((m: any) => m.userId), [next.id, last.id]);
  assert.deepEqual(members.filter((m: any) => m.role === 'owner').map((m: any) => m.userId), [next.id], 'the earliest remaining member owns it');
  assert.equal((await ok(n1, 'getGroup', { groupId: gid })).ownerId, next.id);
});

// v1.2 "Pins": pinMessage / unpinMessage replies and pushes, who may pin (either side of a dialog;
// a group's owner and admins), at most 50 per conversation, pinning twice / unpinning an unpinned
// one changing nothing, deletion unpinning, and getPinned (the conversation's own history rows plus
// pinnedAt and pinnedBy, most recently pinned first). On a broker run (.redis, .redis-cluster twins)
// pushes are also checked on a socket of a second node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp } from './helpers/client.js';
import { ok, okLoose, assertPush, errorOf, assertNoPush, assertIsoDate, count } from './helpers/protocol.js';
import { useTwoNodes } from './helpers/nodes.js';

const ENV = { AUTH_RATE_PER_MINUTE: '100000', WS_RATE_PER_SECOND: '100000', WS_RATE_BURST: '100000' };
const { fx, connect, onOther, store } = useTwoNodes('ws_pins', ENV);

const PIN_KEYS = ['groupId', 'messageId', 'pinnedAt', 'pinnedBy', 'receiverId', 'senderId', 'seq'];
const PIN_PUSH_KEYS = ['groupId', 'messageId', 'pinnedAt', 'receiverId', 'senderId', 'seq', 'userId'];
const DIALOG_ROW_KEYS = ['attachments', 'content', 'created_at', 'deletedAt', 'editedAt', 'id', 'mentions', 'pinnedAt', 'pinnedBy', 'reactions',
  'receiver_id', 'receverName', 'replyTo', 'senderName', 'sender_id', 'seq'];
const GROUP_ROW_KEYS = ['attachments', 'content', 'created_at', 'deletedAt', 'editedAt', 'group_id', 'id', 'mentions', 'pinnedAt', 'pinnedBy', 'reactions',
  'replyTo', 'senderName', 'sender_id', 'seq'];

test('dialog: either side pins and unpins; replies, pushes to both sides, getPinned rows; twice changes nothing', async () => {
  const a = await signUp(fx.relay.http, 'Ana');
  const b = await signUp(fx.relay.http, 'Bea');
  const a1 = await connect(a);
  const a2 = await onOther(a);
  const b1 = await onOther(b);
  const m1 = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'first' });
  const m2 = await ok(b1, 'privateMessage', { receiverId: a.id, content: 'second', replyToId: m1.id });
  const ref2 = { messageId: m2.id, seq: 2, senderId: b.id, receiverId: a.id, groupId: null };

  const p = await ok(a1, 'pinMessage', { messageId: m2.id });
  assert.deepEqual(Object.keys(p).sort(), PIN_KEYS);
  assertIsoDate(p.pinnedAt, 'pinnedAt');
  assert.deepEqual(p, { ...ref2, pinnedAt: p.pinnedAt, pinnedBy: a.id });
  for (const c of [a2, b1]) {
    const d = assertPush(await c.push('pinMessage', (x) => x.messageId === m2.id), 'pinMessage', null, 'Ana');
    assert.deepEqual(Object.keys(d).sort(), PIN_PUSH_KEYS);
    assert.deepEqual(d, { ...ref2, userId: a.id, pinnedAt: p.pinnedAt });
  }
  await assertNoPush(a1, 'pinMessage', () => true, 'the pinning connection');
  await ok(a1, 'addReaction', { messageId: m2.id, emoji: '📌' });

  // The other side pins the older one later: it comes first.
  await new Promise((r) => setTimeout(r, 5));
  const p1 = await ok(b1, 'pinMessage', { messageId: m1.id });
  assert.equal(p1.pinnedBy, b.id);
  const pinned = await ok(b1, 'getPinned', { receiverId: a.id });
  assert.deepEqual(pinned.map((r: any) => r.id), [m1.id, m2.id], 'most recently pinned first');
  for (const r of pinned) assert.deepEqual(Object.keys(r).sort(), DIALOG_ROW_KEYS);
  const history = await ok(b1, 'getlatestMessageDialog', { receiverId: a.id });
  const asHistory = (id: number) => history.find((h: any) => h.id === id);
  assert.deepEqual(pinned[1], { ...asHistory(m2.id), pinnedAt: p.pinnedAt, pinnedBy: a.id }, 'the history row plus pinnedAt, pinnedBy');
  assert.deepEqual(pinned[1].replyTo.id, m1.id);
  assert.deepEqual(pinned[1].reactions, [{ emoji: '📌', count: 1, me: false }], 'reactions as the reader sees them');
  assert.deepEqual((await ok(a1, 'getPinned', { receiverId: b.id }))[1].reactions, [{ emoji: '📌', count: 1, me: true }]);

  // Pinning a pinned message: the current state, no push; the same for unpinning an unpinned one.
  const n = count(b1, 'pinMessage', () => true);
  assert.deepEqual(await ok(b1, 'pinMessage', { messageId: m2.id }), p, 'pinnedBy stays who pinned it');
  const un = await ok(b1, 'unpinMessage', { messageId: m2.id });
  assert.deepEqual(un, { ...ref2, pinnedAt: null, pinnedBy: null });
  for (const c of [a1, a2]) {
    assert.deepEqual(assertPush(await c.push('unpinMessage', (x) => x.messageId === m2.id), 'unpinMessage', null, 'Bea'),
      { ...ref2, userId: b.id, pinnedAt: null });
  }
  assert.deepEqual(await ok(a1, 'unpinMessage', { messageId: m2.id }), un);
  await b1.marker();
  await a2.marker();
  assert.equal(count(b1, 'pinMessage', () => true), n);
  assert.equal(count(a2, 'unpinMessage', (x) => x.messageId === m2.id), 1);
  assert.deepEqual((await ok(a1, 'getPinned', { receiverId: b.id })).map((r: any) => r.id), [m1.id]);
  // A dialog that never was: nothing pinned.
  const nobody = await signUp(fx.relay.http, 'Nob');
  assert.deepEqual(await ok(a1, 'getPinned', { receiverId: nobody.id }), []);
});

test('group: owner and admins pin and unpin; members FORBIDDEN for both; non-members NOT_FOUND / FORBIDDEN; getPinned rows', async () => {
  const [owner, admin, member, stranger] = await Promise.all(['Own', 'Adm', 'Mem', 'Str'].map((n) => signUp(fx.relay.http, n)));
  const o1 = await connect(owner!);
  const ad1 = await onOther(admin!);
  const m1 = await connect(member!);
  const s1 = await connect(stranger!);
  const g = await ok(o1, 'newGroup', { groupName: 'Pins' });
  for (const u of [admin!, member!]) await ok(o1, 'addUserInGroup', { groupId: g.groupId, userId: u.id });
  await ok(o1, 'setMemberRole', { groupId: g.groupId, userId: admin!.id, role: 'admin' });
  const msg = await ok(m1, 'messageInGroup', { groupId: g.groupId, content: 'pin me', mentions: [owner!.id] });

  const f = await errorOf(m1, 'pinMessage', { messageId: msg.id }, 'FORBIDDEN');
  assert.match(f.message, /owner|admin/);
  const p = await ok(ad1, 'pinMessage', { messageId: msg.id });
  assert.deepEqual(p, { messageId: msg.id, seq: 1, senderId: member!.id, receiverId: null, groupId: g.groupId, pinnedAt: p.pinnedAt, pinnedBy: admin!.id });
  for (const c of [o1, m1]) {
    assert.deepEqual(assertPush(await c.push('pinMessage', (x) => x.messageId === msg.id), 'pinMessage', null, 'Adm'),
      { messageId: msg.id, seq: 1, senderId: member!.id, receiverId: null, groupId: g.groupId, userId: admin!.id, pinnedAt: p.pinnedAt });
  }
  await errorOf(m1, 'unpinMessage', { messageId: msg.id }, 'FORBIDDEN');
  await errorOf(s1, 'pinMessage', { messageId: msg.id }, 'NOT_FOUND');
  await errorOf(s1, 'unpinMessage', { messageId: msg.id }, 'NOT_FOUND');
  const nm = await errorOf(s1, 'getPinned', { groupId: g.groupId }, 'FORBIDDEN');
  assert.equal(nm.message, 'User is not a member of this group');

  const rows = await ok(m1, 'getPinned', { groupId: g.groupId });
  assert.equal(rows.length, 1);
  assert.deepEqual(Object.keys(rows[0]).sort(), GROUP_ROW_KEYS);
  const [h] = await ok(m1, 'getlatestMessageGroup', { groupId: g.groupId, limit: 1 });
  assert.deepEqual(rows[0], { ...h, pinnedAt: p.pinnedAt, pinnedBy: admin!.id });
  assert.deepEqual(rows[0].mentions, [owner!.id]);

  await ok(o1, 'unpinMessage', { messageId: msg.id });
  assert.deepEqual(await ok(m1, 'getPinned', { groupId: g.groupId }), []);
  // Demoted: the role is read when pinning.
  await ok(o1, 'setMemberRole', { groupId: g.groupId, userId: admin!.id, role: 'member' });
  await errorOf(ad1, 'pinMessage', { messageId: msg.id }, 'FORBIDDEN');
  await ok(o1, 'pinMessage', { messageId: msg.id });
  // A member who left: NOT_FOUND.
  await ok(m1, 'leaveGroup', { groupId: g.groupId });
  await errorOf(m1, 'pinMessage', { messageId: msg.id }, 'NOT_FOUND');

  for (const bad of [{}, { groupId: g.groupId, receiverId: owner!.id }, { groupId: '1' }, { receiverId: 0 }, { groupId: null, receiverId: null }]) {
    await errorOf(o1, 'getPinned', bad, 'VALIDATION');
  }
  for (const bad of [{}, { messageId: '1' }, { messageId: -1 }, { messageId: 2 ** 53 }]) {
    await errorOf(o1, 'pinMessage', bad, 'VALIDATION');
    await errorOf(o1, 'unpinMessage', bad, 'VALIDATION');
  }
  await errorOf(o1, 'pinMessage', { messageId: 2 ** 40 }, 'NOT_FOUND');
});

test('at most 50 pinned per conversation: the 51st is CONFLICT; unpinning one frees a place; concurrent pins never pass 50', async () => {
  const a = await signUp(fx.relay.http, 'Fif');
  const b = await signUp(fx.relay.http, 'Ty');
  const a1 = await connect(a);
  const b1 = await onOther(b);
  const msgs: any[] = [];
  for (let i = 0; i < 60; i++) msgs.push(await ok(a1, 'privateMessage', { receiverId: b.id, content: `m${i}` }));
  // Two sides racing from two nodes for the last places.
  for (let i = 0; i < 44; i++) await ok(a1, 'pinMessage', { messageId: msgs[i].id });
  const race = await Promise.all(msgs.slice(44, 60).map((m, i) => (i % 2 === 0 ? a1 : b1).request('pinMessage', { messageId: m.id })));
  assert.equal(race.filter((r) => r.success).length, 6, 'exactly 6 more fit');
  for (const r of race.filter((x) => !x.success)) assert.equal(r.code, 'CONFLICT');
  const [{ n }] = await store()<[{ n: number }]>`
    select count(*)::int as n from messages where receiver_id is not null and pinned_at is not null
      and least(sender_id, receiver_id) = ${Math.min(a.id, b.id)} and greatest(sender_id, receiver_id) = ${Math.max(a.id, b.id)}`;
  assert.equal(n, 50);
  assert.equal((await ok(a1, 'getPinned', { receiverId: b.id })).length, 50);
  const refused = msgs.slice(44).find((m) => !race[msgs.indexOf(m) - 44]!.success);
  const e = await errorOf(b1, 'pinMessage', { messageId: refused.id }, 'CONFLICT');
  assert.match(e.message, /50/);
  // A pinned one pinned again is no 51st.
  await ok(b1, 'pinMessage', { messageId: msgs[0].id });
  await ok(b1, 'unpinMessage', { messageId: msgs[0].id });
  await okLoose(b1, 'pinMessage', { messageId: refused.id });
});

test('deleting a message unpins it (the deleteMessage push says enough); a deleted message cannot be pinned or unpinned', async () => {
  const a = await signUp(fx.relay.http, 'Del');
  const b = await signUp(fx.relay.http, 'Pin');
  const a1 = await connect(a);
  const b1 = await onOther(b);
  const g = await ok(a1, 'newGroup', { groupName: 'DelPins' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const m = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'pinned then gone' });
  await ok(a1, 'pinMessage', { messageId: m.id });
  await b1.push('pinMessage', (x) => x.messageId === m.id);
  await ok(b1, 'deleteMessage', { messageId: m.id });
  await a1.push('deleteMessage', (x) => x.id === m.id);
  await assertNoPush(a1, 'unpinMessage', () => true, 'no unpin push for a deletion');
  assert.deepEqual(await ok(a1, 'getPinned', { groupId: g.groupId }), []);
  const [stored] = await store()<{ pinned_at: Date | null; pinned_by: number | null }[]>`select pinned_at, pinned_by from messages where id = ${m.id}`;
  assert.deepEqual([stored!.pinned_at, stored!.pinned_by], [null, null]);
  await errorOf(a1, 'pinMessage', { messageId: m.id }, 'NOT_FOUND');
  await errorOf(a1, 'unpinMessage', { messageId: m.id }, 'NOT_FOUND');
});

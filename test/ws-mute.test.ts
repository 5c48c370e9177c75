// muteConversation / unmuteConversation (PROTOCOL.md v1.2): replies, the push to the caller's other
// connections, validation and refusals, and `muted` / `mutedUntil` in the chat list (a mute that
// runs out is no mute).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp, sleep, type Client } from './helpers/client.js';
import { useRelay, ok, errorOf, assertPush, assertNoPush } from './helpers/protocol.js';

const fx = useRelay('ws_mute', { AUTH_RATE_PER_MINUTE: '100000' });
const { connect } = fx;

async function rowOf(c: Client, match: (r: any) => boolean): Promise<any> {
  const rows = await ok(c, 'listLastMessage', { limit: 100 });
  const row = rows.find(match);
  assert.ok(row, 'the conversation is in the chat list');
  return row;
}

test('mute a dialog until a time, and a group for ever: replies, pushes to the other devices, chat list', async () => {
  const a = await signUp(fx.relay.http, 'Ada');
  const b = await signUp(fx.relay.http, 'Ben');
  const a1 = await connect(a);
  const a2 = await connect(a);
  const b1 = await connect(b);
  await ok(b1, 'privateMessage', { receiverId: a.id, content: 'hi' });
  const g = await ok(a1, 'newGroup', { groupName: 'Team' });

  const until = new Date(Date.now() + 3_600_000).toISOString();
  const reply = await ok(a1, 'muteConversation', { receiverId: b.id, until });
  assert.deepEqual(reply, { receiverId: b.id, groupId: null, muted: true, mutedUntil: until });
  const push = await a2.push('muteConversation', (d) => d.receiverId === b.id);
  assert.deepEqual(assertPush(push, 'muteConversation', null, 'Ada'), reply);
  await assertNoPush(a1, 'muteConversation', () => true, 'the connection that muted');
  await assertNoPush(b1, 'muteConversation', () => true, 'the partner is told nothing');

  const forEver = await ok(a1, 'muteConversation', { groupId: g.groupId });
  assert.deepEqual(forEver, { receiverId: null, groupId: g.groupId, muted: true, mutedUntil: null });

  const dialogRow = await rowOf(a1, (r) => r.groupId === null && r.senderId === b.id);
  assert.equal(dialogRow.muted, true);
  assert.equal(dialogRow.mutedUntil, until);
  const groupRow = await rowOf(a1, (r) => r.groupId === g.groupId);
  assert.equal(groupRow.muted, true);
  assert.equal(groupRow.mutedUntil, null);
  // The partner's own row is not muted: a mute is the caller's alone.
  const theirs = await rowOf(b1, (r) => r.groupId === null);
  assert.deepEqual([theirs.muted, theirs.mutedUntil], [false, null]);

  // Muting again replaces the time.
  const later = new Date(Date.now() + 7_200_000).toISOString();
  assert.equal((await ok(a1, 'muteConversation', { receiverId: b.id, until: later })).mutedUntil, later);

  const un = await ok(a2, 'unmuteConversation', { receiverId: b.id });
  assert.deepEqual(un, { receiverId: b.id, groupId: null, muted: false, mutedUntil: null });
  assert.deepEqual(assertPush(await a1.push('unmuteConversation', () => true), 'unmuteConversation', null, 'Ada'), un);
  const after = await rowOf(a1, (r) => r.groupId === null && r.senderId === b.id);
  assert.deepEqual([after.muted, after.mutedUntil], [false, null]);
  // Unmuting what is not muted answers the same.
  assert.deepEqual(await ok(a1, 'unmuteConversation', { receiverId: b.id }), un);
});

test('a mute that ran out shows as not muted', async () => {
  const a = await signUp(fx.relay.http, 'Cy');
  const a1 = await connect(a);
  const g = await ok(a1, 'newGroup', { groupName: 'Brief' });
  await ok(a1, 'muteConversation', { groupId: g.groupId, until: new Date(Date.now() + 1500).toISOString() });
  assert.equal((await rowOf(a1, (r) => r.groupId === g.groupId)).muted, true);
  await sleep(1700);
  const row = await rowOf(a1, (r) => r.groupId === g.groupId);
  assert.deepEqual([row.muted, row.mutedUntil], [false, null]);
});

test('validation and refusals', async () => {
  const a = await signUp(fx.relay.http, 'Dee');
  const b = await signUp(fx.relay.http, 'Eve');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const g = await ok(b1, 'newGroup', { groupName: 'Not yours' });
  await errorOf(a1, 'muteConversation', {}, 'VALIDATION');
  await errorOf(a1, 'muteConversation', { receiverId: b.id, groupId: g.groupId }, 'VALIDATION');
  await errorOf(a1, 'muteConversation', { receiverId: b.id, until: 'tomorrow' }, 'VALIDATION');
  await errorOf(a1, 'muteConversation', { receiverId: b.id, until: 12 }, 'VALIDATION');
  await errorOf(a1, 'muteConversation', { receiverId: b.id, until: new Date(Date.now() - 1000).toISOString() }, 'VALIDATION');
  await errorOf(a1, 'muteConversation', { receiverId: b.id, until: new Date(Date.now() + 400 * 86_400_000).toISOString() }, 'VALIDATION');
  await errorOf(a1, 'muteConversation', { receiverId: 2_000_000_000 }, 'NOT_FOUND');
  const f = await errorOf(a1, 'muteConversation', { groupId: g.groupId }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  await errorOf(a1, 'unmuteConversation', { groupId: g.groupId }, 'FORBIDDEN');
  await errorOf(a1, 'unmuteConversation', { receiverId: 2_000_000_000 }, 'NOT_FOUND');
  // `until: null` is "until unmuted", like its absence.
  assert.equal((await ok(a1, 'muteConversation', { receiverId: b.id, until: null })).mutedUntil, null);
});

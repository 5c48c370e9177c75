// The SDK against a real server, v1.2 search and blocking: each method's typed reply, the
// blockUser / unblockUser events on the blocker's other clients, and the errors as RelayErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError, type RelayClient } from 'relay-client';
import { signUp, type Account } from './helpers/client.js';
import { useRelay } from './helpers/protocol.js';
import { sdk, Recorder } from './helpers/sdk.js';

const fx = useRelay('sdk_search_block', { AUTH_RATE_PER_MINUTE: '100000' });

async function connected(a: Account): Promise<{ c: RelayClient; rec: Recorder }> {
  const c = sdk(fx.relay.ws, a.token);
  const rec = new Recorder(c, ['blockUser', 'unblockUser', 'message']);
  await c.connect();
  return { c, rec };
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: string): Promise<void> {
  const err = await p.then(() => assert.fail(`expected ${code}`), (e: unknown) => e);
  assert.ok(err instanceof RelayError, String(err));
  assert.equal(err.code, code, err.message);
  if (message) assert.equal(err.message, message);
}

test('searchMessages through the SDK: typed rows with highlights, scope and paging options', async () => {
  const a = await signUp(fx.relay.http, 'Sia');
  const b = await signUp(fx.relay.http, 'Tom');
  const { c: ca } = await connected(a);
  const m1 = await ca.sendPrivate(b.id, 'Привет, Tom');
  const g = await ca.createGroup('Search');
  const m2 = await ca.sendToGroup(g.groupId, 'привет всем');
  const all = await ca.searchMessages('ПРИВ');
  assert.deepEqual(all.map((r) => r.id), [m2.id, m1.id]);
  assert.deepEqual(all.map((r) => r.highlights), [[[0, 6]], [[0, 6]]]);
  assert.equal(all[1]!.receiverName, 'Tom');
  assert.equal(all[0]!.groupName, 'Search');
  assert.deepEqual((await ca.searchMessages('прив', { groupId: g.groupId })).map((r) => r.id), [m2.id]);
  assert.deepEqual((await ca.searchMessages('прив', { receiverId: b.id })).map((r) => r.id), [m1.id]);
  assert.deepEqual((await ca.searchMessages('прив', { limit: 1, beforeId: m2.id })).map((r) => r.id), [m1.id]);
  await rejectsWith(ca.searchMessages(''), 'VALIDATION');
});

test('blocking through the SDK: replies, events on the other client, the send refused, the list', async () => {
  const a = await signUp(fx.relay.http, 'Uma');
  const b = await signUp(fx.relay.http, 'Vic');
  const { c: ca } = await connected(a);
  const { rec: ra2 } = await connected(a);
  const { c: cb } = await connected(b);
  assert.equal(await ca.blockUser(b.id), null);
  const ev = await ra2.wait('blockUser', (e) => e.data.userId === b.id);
  assert.deepEqual([ev.data, ev.message, ev.senderName], [{ userId: b.id }, null, 'Uma']);
  await rejectsWith(cb.sendPrivate(a.id, 'hello?'), 'FORBIDDEN', 'This user does not accept your messages');
  await rejectsWith(ca.sendPrivate(b.id, 'hush'), 'FORBIDDEN', 'Unblock this user to message them');
  const list = await ca.getBlockedUsers();
  assert.deepEqual(list.map((r) => [r.userId, r.firstName]), [[b.id, 'Vic']]);
  assert.equal((await ca.listChats()).length, 0);
  assert.equal(await ca.unblockUser(b.id), null);
  await ra2.wait('unblockUser', (e) => e.data.userId === b.id);
  assert.deepEqual(await ca.getBlockedUsers({ limit: 5 }), []);
  await rejectsWith(ca.blockUser(a.id), 'VALIDATION');
  const sent = await cb.sendPrivate(a.id, 'hello again');
  assert.equal((await ca.listChats()).find((r) => r.id === sent.id)?.blocked, false);
});

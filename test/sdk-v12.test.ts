// The SDK against a real server, v1.2 replies, mentions, reactions and pins: each request's typed
// method and reply, each new push as a typed event, the new fields on the `message` event and on
// history rows, and applyReaction keeping `me` right from pushes that do not carry it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyReaction, type Reaction } from 'relay-client';
import { signUp, type Account } from './helpers/client.js';
import { useRelay } from './helpers/protocol.js';
import { connectedSdk, rejectsWith } from './helpers/sdk.js';

const fx = useRelay('sdk_v12', { AUTH_RATE_PER_MINUTE: '100000' });

const EVENTS = ['message', 'addReaction', 'removeReaction', 'pinMessage', 'unpinMessage', 'editMessage'] as const;

const connected = (a: Account, url = fx.relay.ws) => connectedSdk(url, a.token, [...EVENTS]);

test('applyReaction: counts from the push, `me` only moves for the reader\'s own acts, first-appearance order', () => {
  const me = 7;
  let r: Reaction[] = [];
  r = applyReaction(r, 'addReaction', { emoji: '👍', count: 1, userId: 3 }, me);
  r = applyReaction(r, 'addReaction', { emoji: '🎉', count: 1, userId: me }, me);
  r = applyReaction(r, 'addReaction', { emoji: '👍', count: 2, userId: me }, me);
  assert.deepEqual(r, [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 1, me: true }]);
  r = applyReaction(r, 'removeReaction', { emoji: '👍', count: 1, userId: 3 }, me);
  assert.deepEqual(r[0], { emoji: '👍', count: 1, me: true }, 'someone else leaving keeps mine');
  r = applyReaction(r, 'removeReaction', { emoji: '👍', count: 0, userId: me }, me);
  assert.deepEqual(r, [{ emoji: '🎉', count: 1, me: true }]);
  r = applyReaction(r, 'addReaction', { emoji: '👍', count: 1, userId: 3 }, me);
  assert.deepEqual(r.map((x) => x.emoji), ['🎉', '👍'], 'back, and last');
});

test('replies and mentions: send options, the message event and history rows carry replyTo and mentions', async () => {
  const a = await signUp(fx.relay.http, 'Sora');
  const b = await signUp(fx.relay.http, 'Taro');
  const { c: ca } = await connected(a);
  const { c: cb, rec: rb } = await connected(b);
  const first = await ca.sendPrivate(b.id, 'question?');
  const answer = await cb.sendPrivate(a.id, 'answer', { replyToId: first.id });
  assert.deepEqual(answer.replyTo, { id: first.id, seq: 1, senderId: a.id, senderName: 'Sora', content: 'question?', deletedAt: null });
  assert.deepEqual(answer.mentions, []);
  await rejectsWith(cb.sendPrivate(a.id, 'x', { replyToId: 2 ** 40 }), 'NOT_FOUND');

  const g = await ca.createGroup('SDK v1.2');
  await ca.addToGroup(g.groupId, b.id);
  const m = await ca.sendToGroup(g.groupId, '@Taro look', { mentions: [b.id, b.id, 999999], replyToId: undefined });
  assert.deepEqual(m.mentions, [b.id]);
  const got = await rb.wait('message', (x) => x.id === m.id);
  assert.deepEqual([got.mentions, got.replyTo, got.reactions], [[b.id], null, []]);
  const reply = await cb.sendToGroup(g.groupId, 'seen', { replyToId: m.id });
  assert.equal(reply.replyTo?.id, m.id);
  const [row] = await cb.groupHistory(g.groupId, { limit: 1 });
  assert.deepEqual([row!.replyTo?.id, row!.mentions, row!.reactions], [m.id, [], []]);
  const chats = await cb.listChats();
  assert.equal(chats.find((x) => x.groupId === g.groupId)?.mentionCount, 0, 'b sent after the mention: read');
  const edited = await ca.editMessage(m.id, '@Taro look again');
  assert.deepEqual(edited.mentions, [b.id]);
});

test('reactions and pins: typed methods and replies, typed push events; getPinned rows', async () => {
  const a = await signUp(fx.relay.http, 'Umi');
  const b = await signUp(fx.relay.http, 'Val');
  const { c: ca, rec: ra } = await connected(a);
  const { c: cb, rec: rb } = await connected(b);
  const m = await ca.sendPrivate(b.id, 'pin and react');

  const added = await cb.addReaction(m.id, '🔥');
  assert.deepEqual(added, { messageId: m.id, seq: 1, senderId: a.id, receiverId: b.id, groupId: null, reactions: [{ emoji: '🔥', count: 1, me: true }] });
  const push = await ra.wait('addReaction', (p) => p.data.messageId === m.id);
  assert.deepEqual(push.data, { messageId: m.id, seq: 1, senderId: a.id, receiverId: b.id, groupId: null, userId: b.id, emoji: '🔥', count: 1 });
  assert.equal(push.senderName, 'Val');
  assert.equal(push.message, null);
  // a's view, kept from the push: b holds it, a does not.
  assert.deepEqual(applyReaction([], 'addReaction', push.data, a.id), [{ emoji: '🔥', count: 1, me: false }]);
  const removed = await cb.removeReaction(m.id, '🔥');
  assert.deepEqual(removed.reactions, []);
  assert.equal((await ra.wait('removeReaction', (p) => p.data.messageId === m.id)).data.count, 0);
  await rejectsWith(cb.addReaction(m.id, 'no spaces'), 'VALIDATION');

  const pinned = await ca.pinMessage(m.id);
  assert.equal(pinned.pinnedBy, a.id);
  assert.equal(typeof pinned.pinnedAt, 'string');
  const pp = await rb.wait('pinMessage', (p) => p.data.messageId === m.id);
  assert.deepEqual(pp.data, { messageId: m.id, seq: 1, senderId: a.id, receiverId: b.id, groupId: null, userId: a.id, pinnedAt: pinned.pinnedAt });
  const rows = await cb.getPinned({ receiverId: a.id });
  assert.deepEqual(rows.map((r) => [r.id, r.pinnedAt, r.pinnedBy]), [[m.id, pinned.pinnedAt, a.id]]);
  const un = await cb.unpinMessage(m.id);
  assert.deepEqual([un.pinnedAt, un.pinnedBy], [null, null]);
  assert.equal((await ra.wait('unpinMessage', (p) => p.data.messageId === m.id)).data.pinnedAt, null);
  await rejectsWith(ca.getPinned({ groupId: 2 ** 31 - 1 }), 'FORBIDDEN');
});

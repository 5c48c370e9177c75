// Sending: privateMessage and messageInGroup replies and pushes (who gets them, who does not),
// idempotent sends with clientMessageId, and reply order on one connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp, sleep } from './helpers/client.js';
import { useRelay, settle, assertIsoDate, ok, assertPush, errorOf, assertNoPush } from './helpers/protocol.js';

const fx = useRelay('ws_messages', { AUTH_RATE_PER_MINUTE: '100000' });
const { connect } = fx;

test('privateMessage: reply carries the stored message; receiver (all connections) and sender\'s other connections get the push', async () => {
  const a = await signUp(fx.relay.http, 'Alice');
  const b = await signUp(fx.relay.http, 'Bruno');
  const c = await signUp(fx.relay.http, 'Carla');
  const a1 = await connect(a, 'header');
  const a2 = await connect(a, 'protocol');
  const b1 = await connect(b, 'header');
  const b2 = await connect(b, 'protocol');
  const c1 = await connect(c);

  const data = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'Hi' });
  // v1's fields plus v1.1's seq (the first message of this dialog) and v1.2's replyTo and mentions.
  assert.deepEqual(Object.keys(data).sort(), ['attachments', 'content', 'createdAt', 'id', 'mentions', 'receiverId', 'replyTo', 'senderId', 'seq']);
  assert.deepEqual([data.replyTo, data.mentions], [null, []]);
  assert.equal(data.seq, 1);
  assert.equal(typeof data.id, 'number');
  assert.ok(Number.isInteger(data.id) && data.id > 0);
  assert.equal(data.senderId, a.id);
  assert.equal(data.receiverId, b.id);
  assert.equal(data.content, 'Hi');
  assertIsoDate(data.createdAt, 'createdAt');

  for (const [conn, who] of [[b1, 'receiver 1'], [b2, 'receiver 2'], [a2, 'sender\'s other connection']] as const) {
    const push = await conn.push('privateMessage', (d) => d.id === data.id);
    const pd = assertPush(push, 'privateMessage', 'Hi', 'Alice');
    assert.deepEqual(pd, data, `${who} gets the same data as the reply`);
  }
  await assertNoPush(a1, 'privateMessage', (d) => d.id === data.id, 'the sending connection');
  await assertNoPush(c1, 'privateMessage', (d) => d.id === data.id, 'a bystander', 0);
  // Exactly once on each recipient connection.
  for (const conn of [b1, b2, a2]) {
    assert.equal(conn.pushes('privateMessage').filter((f) => f.params.data.id === data.id).length, 1);
  }

  // The reverse direction: B answers from b2, A's both connections and b1 get it, b2 does not.
  const back = await ok(b2, 'privateMessage', { receiverId: a.id, content: 'Hello back' });
  for (const conn of [a1, a2, b1]) {
    assertPush(await conn.push('privateMessage', (d) => d.id === back.id), 'privateMessage', 'Hello back', 'Bruno');
  }
  assert.ok(back.id > data.id, 'ids grow');
  await assertNoPush(b2, 'privateMessage', (d) => d.id === back.id, 'the sending connection');
});

test('privateMessage to oneself is stored and pushed once to the other connections', async () => {
  const a = await signUp(fx.relay.http, 'Solo');
  const a1 = await connect(a);
  const a2 = await connect(a);
  const data = await ok(a1, 'privateMessage', { receiverId: a.id, content: 'note to self' });
  assert.equal(data.senderId, a.id);
  assert.equal(data.receiverId, a.id);
  await a2.push('privateMessage', (d) => d.id === data.id);
  await settle([a2]);
  assert.equal(a2.pushes('privateMessage').filter((f) => f.params.data.id === data.id).length, 1, 'pushed once, not twice');
  await assertNoPush(a1, 'privateMessage', (d) => d.id === data.id, 'the sending connection', 0);
});

test('privateMessage to an account that does not exist is NOT_FOUND', async () => {
  const a = await signUp(fx.relay.http, 'Lonely');
  const a1 = await connect(a);
  const f = await errorOf(a1, 'privateMessage', { receiverId: 2147483647, content: 'anyone?' }, 'NOT_FOUND');
  assert.match(f.message, /not found/i);
});

test('messageInGroup: reply carries the stored message; every member connection but the sending one gets the push', async () => {
  const a = await signUp(fx.relay.http, 'Gina');
  const b = await signUp(fx.relay.http, 'Hans');
  const c = await signUp(fx.relay.http, 'Ivy');
  const out = await signUp(fx.relay.http, 'Outsider');
  const a1 = await connect(a);
  const a2 = await connect(a, 'protocol');
  const b1 = await connect(b);
  const b2 = await connect(b);
  const c1 = await connect(c);
  const o1 = await connect(out);

  const group = await ok(a1, 'newGroup', { groupName: 'Team' });
  await ok(a1, 'addUserInGroup', { groupId: group.groupId, userId: b.id });
  await ok(a1, 'addUserInGroup', { groupId: group.groupId, userId: c.id });

  const data = await ok(a1, 'messageInGroup', { groupId: group.groupId, content: 'lol' });
  assert.deepEqual(Object.keys(data).sort(), ['attachments', 'content', 'createdAt', 'groupId', 'id', 'mentions', 'replyTo', 'senderId', 'seq']);
  assert.equal(data.seq, 1);
  assert.equal(data.groupId, group.groupId);
  assert.equal(data.senderId, a.id);
  assert.equal(data.content, 'lol');
  assertIsoDate(data.createdAt, 'createdAt');

  for (const conn of [a2, b1, b2, c1]) {
    const pd = assertPush(await conn.push('messageInGroup', (d) => d.id === data.id), 'messageInGroup', 'lol', 'Gina');
    assert.deepEqual(Object.keys(pd).sort(), ['attachments', 'content', 'createdAt', 'groupId', 'groupName', 'id', 'mentions', 'replyTo', 'senderId', 'seq']);
    assert.deepEqual(pd, { ...data, groupName: 'Team' });
  }
  await assertNoPush(a1, 'messageInGroup', (d) => d.id === data.id, 'the sending connection');
  await assertNoPush(o1, 'messageInGroup', (d) => d.groupId === group.groupId, 'a non-member', 0);
  for (const conn of [a2, b1, b2, c1]) {
    assert.equal(conn.pushes('messageInGroup').filter((f) => f.params.data.id === data.id).length, 1, 'exactly once');
  }

  // A member other than the creator writes: the creator's both connections get it.
  const fromC = await ok(c1, 'messageInGroup', { groupId: group.groupId, content: 'from Ivy' });
  for (const conn of [a1, a2, b1, b2]) {
    assertPush(await conn.push('messageInGroup', (d) => d.id === fromC.id), 'messageInGroup', 'from Ivy', 'Ivy');
  }
  await assertNoPush(c1, 'messageInGroup', (d) => d.id === fromC.id, 'the sending connection');
});

test('messageInGroup from a non-member, or to a group that does not exist, is FORBIDDEN and pushes nothing', async () => {
  const a = await signUp(fx.relay.http, 'Owner');
  const x = await signUp(fx.relay.http, 'Intruder');
  const a1 = await connect(a);
  const x1 = await connect(x);
  const group = await ok(a1, 'newGroup', { groupName: 'Closed' });
  const f = await errorOf(x1, 'messageInGroup', { groupId: group.groupId, content: 'let me in' }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  const g = await errorOf(x1, 'messageInGroup', { groupId: 2147483647, content: 'nobody' }, 'FORBIDDEN');
  assert.equal(g.message, 'User is not a member of this group');
  await assertNoPush(a1, 'messageInGroup', () => true, 'the member');
  const history = await ok(a1, 'getlatestMessageGroup', { groupId: group.groupId });
  assert.deepEqual(history, []);
});

test('idempotent privateMessage: the same clientMessageId returns the first message, stored and pushed once', async () => {
  const a = await signUp(fx.relay.http, 'Idem');
  const b = await signUp(fx.relay.http, 'Potent');
  const a1 = await connect(a);
  const a2 = await connect(a);
  const b1 = await connect(b);
  const params = { receiverId: b.id, content: 'only once', clientMessageId: 'cm-1' };
  const first = await ok(a1, 'privateMessage', params);
  await sleep(20);
  const again = await ok(a1, 'privateMessage', params);
  assert.deepEqual(again, first, 'the retry gets the first message back, same id and createdAt');
  // The retry from another device of the same account (e.g. after a reconnect) too.
  const fromOther = await ok(a2, 'privateMessage', params);
  assert.deepEqual(fromOther, first);

  const history = await ok(b1, 'getlatestMessageDialog', { receiverId: a.id });
  assert.equal(history.filter((m: any) => m.content === 'only once').length, 1, 'stored once');
  await settle([b1, a2]);
  assert.equal(b1.pushes('privateMessage').filter((f) => f.params.data.id === first.id).length, 1, 'pushed once to the receiver');
  assert.equal(a2.pushes('privateMessage').filter((f) => f.params.data.id === first.id).length, 1, 'pushed once to the other device');

  // Another user may use the same clientMessageId: it is per sender.
  const b2msg = await ok(b1, 'privateMessage', { receiverId: a.id, content: 'only once', clientMessageId: 'cm-1' });
  assert.notEqual(b2msg.id, first.id);

  // Different content, different receiver, or the other send type with the same id: CONFLICT, nothing stored.
  const c = await signUp(fx.relay.http, 'Third');
  for (const [type, p] of [
    ['privateMessage', { ...params, content: 'something else' }],
    ['privateMessage', { ...params, receiverId: c.id }],
  ] as const) {
    const f = await errorOf(a1, type, p, 'CONFLICT');
    assert.match(f.message, /clientMessageId/);
  }
  const group = await ok(a1, 'newGroup', { groupName: 'cm' });
  await errorOf(a1, 'messageInGroup', { groupId: group.groupId, content: 'only once', clientMessageId: 'cm-1' }, 'CONFLICT');
  const after = await ok(b1, 'getlatestMessageDialog', { receiverId: a.id });
  assert.equal(after.filter((m: any) => m.sender_id === a.id).length, 1, 'nothing more stored');
  assert.deepEqual(await ok(a1, 'getlatestMessageGroup', { groupId: group.groupId }), []);
});

test('idempotent sends raced from two connections at once are stored once', async () => {
  const a = await signUp(fx.relay.http, 'Racer');
  const b = await signUp(fx.relay.http, 'Target');
  const a1 = await connect(a);
  const a2 = await connect(a);
  const b1 = await connect(b);
  const params = { receiverId: b.id, content: 'raced', clientMessageId: 'race-1' };
  const [r1, r2] = await Promise.all([ok(a1, 'privateMessage', params), ok(a2, 'privateMessage', params)]);
  assert.deepEqual(r1, r2);
  const history = await ok(b1, 'getlatestMessageDialog', { receiverId: a.id });
  assert.equal(history.length, 1);
  await settle([b1]);
  assert.equal(b1.pushes('privateMessage').length, 1, 'one push for the receiver');
});

test('idempotent messageInGroup: the same clientMessageId returns the first message; different content is CONFLICT', async () => {
  const a = await signUp(fx.relay.http, 'GIdem');
  const b = await signUp(fx.relay.http, 'GMember');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const group = await ok(a1, 'newGroup', { groupName: 'Idempotent' });
  await ok(a1, 'addUserInGroup', { groupId: group.groupId, userId: b.id });
  const params = { groupId: group.groupId, content: 'once in group', clientMessageId: 'g-1' };
  const first = await ok(a1, 'messageInGroup', params);
  const again = await ok(a1, 'messageInGroup', params);
  assert.deepEqual(again, first);
  const f = await errorOf(a1, 'messageInGroup', { ...params, content: 'changed' }, 'CONFLICT');
  assert.match(f.message, /clientMessageId/);
  const other = await ok(a1, 'newGroup', { groupName: 'Other' });
  await errorOf(a1, 'messageInGroup', { ...params, groupId: other.groupId }, 'CONFLICT');
  // A private message with that id conflicts too.
  await errorOf(a1, 'privateMessage', { receiverId: b.id, content: 'once in group', clientMessageId: 'g-1' }, 'CONFLICT');
  const history = await ok(b1, 'getlatestMessageGroup', { groupId: group.groupId });
  assert.deepEqual(history.map((m: any) => m.id), [first.id]);
  await settle([b1]);
  assert.equal(b1.pushes('messageInGroup').filter((p) => p.params.data.id === first.id).length, 1);
});

test('replies to one connection come in request order, reads see the writes before them', async () => {
  const a = await signUp(fx.relay.http, 'Order');
  const b = await signUp(fx.relay.http, 'Peer');
  const a1 = await connect(a);
  const group = await ok(a1, 'newGroup', { groupName: 'Ordered' });
  const first = a1.frames.length;
  const requests: [string, unknown][] = [];
  for (let i = 0; i < 20; i++) {
    switch (i % 5) {
      case 0: requests.push(['privateMessage', { receiverId: b.id, content: `p${i}` }]); break;
      case 1: requests.push(['getlatestMessageDialog', { receiverId: b.id, limit: 100 }]); break;
      case 2: requests.push(['messageInGroup', { groupId: group.groupId, content: `g${i}` }]); break;
      case 3: requests.push(['listLastMessage', {}]); break;
      default: requests.push(i === 9 ? ['privateMessage', { receiverId: 'bad', content: 'x' }] : ['getlatestMessageGroup', { groupId: group.groupId, limit: 100 }]);
    }
  }
  // All sent in one go, without waiting for any reply.
  const replies = await Promise.all(requests.map(([type, params]) => a1.request(type, params, 10_000)));
  const arrived = a1.frames.slice(first).filter((f) => f.requestId !== undefined).map((f) => f.requestId);
  const sent = replies.map((r) => r.requestId);
  assert.deepEqual(arrived, sent, 'replies arrive in the order the requests were sent');
  replies.forEach((r, i) => assert.equal(r.type, requests[i]![0]));
  assert.equal(replies[9]!.code, 'VALIDATION', 'an invalid request keeps its place');

  // Each history read sees exactly the messages whose sends came before it.
  replies.forEach((r, i) => {
    if (requests[i]![0] === 'getlatestMessageDialog') {
      const expected = requests.slice(0, i).filter(([t, p]) => t === 'privateMessage' && typeof (p as any).receiverId === 'number').length;
      assert.equal(r.params.data.length, expected, `dialog read #${i} sees ${expected} messages`);
    }
    if (requests[i]![0] === 'getlatestMessageGroup') {
      const expected = requests.slice(0, i).filter(([t]) => t === 'messageInGroup').length;
      assert.equal(r.params.data.length, expected, `group read #${i} sees ${expected} messages`);
    }
  });
  // And writes got increasing ids in request order.
  const ids = replies.filter((_r, i) => ['privateMessage', 'messageInGroup'].includes(requests[i]![0]))
    .filter((r) => r.success).map((r) => r.params.data.id);
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
});

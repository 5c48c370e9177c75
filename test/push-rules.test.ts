// Notifications to offline devices (PROTOCOL.md v1.2) meeting mentions and blocking: a mention is
// let through a mute and makes the notification urgent, also when it is folded into one that
// describes a later message; a recipient who blocks the sender is not notified about that sender's
// group messages (other members are), nor shown them when the newest message is the blocked one's.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { http, signUp, sleep, type Account } from './helpers/client.js';
import { eventually } from './helpers/kit.js';
import { useRelay, ok } from './helpers/protocol.js';
import { startPushService, type TestSubscription } from './helpers/pushService.js';
import { pushEnv, received, subscribe } from './helpers/push.js';

const service = await startPushService();
const fx = useRelay('push_rules', pushEnv(), async (f) => {
  service.publicKey = (await http(f.relay.http, 'GET', '/push/key')).body.publicKey;
});
const base = (): string => fx.relay.http;
after(() => service.close());

/** Long enough for the worker (polling every 100 ms) to have notified if it were going to. */
const QUIET = 800;

/** An account with a push subscription and no open socket. */
async function offline(name: string): Promise<{ account: Account; sub: TestSubscription }> {
  const account = await signUp(base(), name);
  const sub = service.subscribe();
  await subscribe(base(), account, sub);
  return { account, sub };
}

/** Runs `what` on a socket of `account` that is closed afterwards (the account is offline again). */
async function briefly(account: Account, what: (c: Awaited<ReturnType<typeof fx.connect>>) => Promise<unknown>): Promise<void> {
  const c = await fx.connect(account);
  await what(c);
  await c.close();
  await sleep(300);
}

const summary = (s: TestSubscription) => s.received.map((r) => ({ id: r.payload.id, urgency: r.headers.urgency }));

test('mentions: a muted member who is mentioned is notified (Urgency high), a muted one not mentioned is not, nor one mentioned by a sender it blocks', async () => {
  const ann = await signUp(base(), 'Ann');
  const bob = await offline('Bob'); // muted, mentioned
  const cat = await offline('Cat'); // muted, not mentioned
  const dan = await offline('Dan'); // not muted, not mentioned
  const eve = await offline('Eve'); // muted, mentioned, blocks Ann
  const a = await fx.connect(ann);
  const g = await ok(a, 'newGroup', { groupName: 'Hush' });
  for (const m of [bob, cat, dan, eve]) await ok(a, 'addUserInGroup', { groupId: g.groupId, userId: m.account.id });
  for (const m of [bob, cat, eve]) await briefly(m.account, (c) => ok(c, 'muteConversation', { groupId: g.groupId }));
  await briefly(eve.account, (c) => ok(c, 'blockUser', { userId: ann.id }));

  const m1 = await ok(a, 'messageInGroup', { groupId: g.groupId, content: 'hey @Bob @Eve', mentions: [bob.account.id, eve.account.id] });
  await received(bob.sub, 1);
  await received(dan.sub, 1);
  assert.deepEqual(summary(bob.sub), [{ id: m1.id, urgency: 'high' }], 'mentioned: through the mute, urgent');
  assert.deepEqual(summary(dan.sub), [{ id: m1.id, urgency: 'normal' }], 'not mentioned, not muted: as before');
  await sleep(QUIET);
  assert.equal(cat.sub.received.length, 0, 'muted and not mentioned: nothing');
  assert.equal(eve.sub.received.length, 0, 'a mention by a sender one blocks does not go through the mute');

  // Within the fold window (1.5 s here): a mention, then a plain message. The notification describes
  // the newest (the plain one) and still goes, urgent: through Bob's mute, and for Dan.
  const m2 = await ok(a, 'messageInGroup', { groupId: g.groupId, content: 'you two again', mentions: [bob.account.id, dan.account.id] });
  const m3 = await ok(a, 'messageInGroup', { groupId: g.groupId, content: 'and everyone' });
  assert.ok(m3.id > m2.id);
  await received(bob.sub, 2);
  await received(dan.sub, 2);
  assert.deepEqual(summary(bob.sub)[1], { id: m3.id, urgency: 'high' }, 'the folded mention made it through the mute, urgent');
  assert.deepEqual(summary(dan.sub)[1], { id: m3.id, urgency: 'high' }, 'the folded mention made it urgent');
  assert.equal(bob.sub.received[1]!.payload.unreadCount, 3);

  // The mention was told: the next plain message is muted for Bob again, and normal for Dan.
  await sleep(1600);
  const m4 = await ok(a, 'messageInGroup', { groupId: g.groupId, content: 'plain' });
  await received(dan.sub, 3);
  assert.deepEqual(summary(dan.sub)[2], { id: m4.id, urgency: 'normal' });
  await sleep(QUIET);
  assert.equal(bob.sub.received.length, 2, 'muted again without a mention');
  assert.equal(cat.sub.received.length + eve.sub.received.length, 0);
});

test('blocking: a member who blocks the sender gets nothing from its group messages while another member does; other senders still notify it', async () => {
  const ann = await signUp(base(), 'Ana'); // blocked by Bob
  const dan = await signUp(base(), 'Dov');
  const bob = await offline('Bo');
  const cat = await offline('Cy');
  const a = await fx.connect(ann);
  const d = await fx.connect(dan);
  const g = await ok(a, 'newGroup', { groupName: 'Mixed' });
  for (const u of [bob.account.id, cat.account.id, dan.id]) await ok(a, 'addUserInGroup', { groupId: g.groupId, userId: u });
  await briefly(bob.account, (c) => ok(c, 'blockUser', { userId: ann.id }));

  const m1 = await ok(a, 'messageInGroup', { groupId: g.groupId, content: 'from Ana' });
  await received(cat.sub, 1);
  assert.equal(cat.sub.received[0]!.payload.id, m1.id, 'another member is notified');
  await sleep(QUIET);
  assert.equal(bob.sub.received.length, 0, 'the member who blocks the sender is not');

  // Another sender notifies Bob; when the blocked sender's message comes last within the fold
  // window, Bob's further notification describes the newest message he may see, not Ana's.
  const d1 = await ok(d, 'messageInGroup', { groupId: g.groupId, content: 'from Dov' });
  await received(bob.sub, 1);
  assert.equal(bob.sub.received[0]!.payload.id, d1.id);
  const d2 = await ok(d, 'messageInGroup', { groupId: g.groupId, content: 'Dov again' });
  const a2 = await ok(a, 'messageInGroup', { groupId: g.groupId, content: 'Ana again' });
  await received(bob.sub, 2);
  const second = bob.sub.received[1]!.payload;
  assert.deepEqual([second.id, second.senderId, second.preview], [d2.id, dan.id, 'Dov again'], 'not the blocked sender\'s message');
  await eventually('Cy is told the newest, Ana\'s', () => cat.sub.received.at(-1)?.payload.id === a2.id);
  await sleep(2000);
  assert.equal(bob.sub.received.length, 2, 'Ana\'s message never reaches Bo');

  // Unblocked: Ana's messages notify Bob again.
  await briefly(bob.account, (c) => ok(c, 'unblockUser', { userId: ann.id }));
  const a3 = await ok(a, 'messageInGroup', { groupId: g.groupId, content: 'Ana, unblocked' });
  await received(bob.sub, 3);
  assert.equal(bob.sub.received[2]!.payload.id, a3.id);
});

// The SDK's guarantees across failures, against real servers: a server restarted
// mid-conversation (reconnect, sends stored once, missed messages once and in order), a reply
// lost on the wire (resent, stored once), the bounded offline queue, 4001 → getToken →
// reconnect, 4003 → stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError, type ChatMessage } from 'relay-client';
import { Client, http, signUp, sleep } from './helpers/client.js';
import { useRelay, ok } from './helpers/protocol.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { sdk, Recorder } from './helpers/sdk.js';
import { startProxy } from './helpers/proxy.js';

let shortRelay: RelayProcess;
const fx = useRelay('sdk_reconnect', { AUTH_RATE_PER_MINUTE: '100000' }, async () => {
  // Same database: tokens issued by this one live two seconds.
  shortRelay = await fx.startAnother({ DATABASE_URL: fx.db.url, AUTH_RATE_PER_MINUTE: '100000', JWT_TTL: '2' });
});

const contents = (ms: ChatMessage[]): string[] => ms.map((m) => m.content);

test('a server restarted mid-conversation: both clients reconnect, offline sends are stored once, missed messages arrive once and in order', async () => {
  // A server of this test's own, restarted (the fixture's stays up for the others). The clients
  // reach it through a proxy, as through a load balancer: the restarted server may get another port.
  let relay = await startRelay({ DATABASE_URL: fx.db.url, AUTH_RATE_PER_MINUTE: '100000' });
  const proxy = await startProxy(relay.port);
  // A second node on the same database, without Redis: what is sent there is stored but pushed to nobody here.
  const other = fx.relay;
  try {
    const a = await signUp(relay.http, 'Ada');
    const b = await signUp(relay.http, 'Bob');
    const ca = sdk(proxy.url, a.token);
    const cb = sdk(proxy.url, b.token);
    const ra = new Recorder(ca, ['message', 'state', 'open', 'reconnecting']);
    const rb = new Recorder(cb, ['message', 'state', 'open', 'reconnecting']);
    await Promise.all([ca.connect(), cb.connect()]);

    const hello = await ca.sendPrivate(b.id, 'before 1');
    await rb.wait('message', (m) => m.id === hello.id);
    const answer = await cb.sendPrivate(a.id, 'before 2');
    await ra.wait('message', (m) => m.id === answer.id);

    await relay.stop();
    await ra.wait('reconnecting');
    await rb.wait('reconnecting');
    assert.notEqual(ca.state, 'open');

    // A writes while the server is down: queued, not lost.
    const offline = [ca.sendPrivate(b.id, 'offline 1'), ca.sendPrivate(b.id, 'offline 2')];
    assert.equal(ca.queuedSends, 2);
    // B writes from another device through the other node: A's client misses these live.
    const bOther = await Client.connect(other.ws, b.token);
    const missed: number[] = [];
    for (const text of ['missed 1', 'missed 2', 'missed 3']) missed.push((await ok(bOther, 'privateMessage', { receiverId: a.id, content: text })).id);
    bOther.ws.terminate();

    relay = await startRelay({ DATABASE_URL: fx.db.url, AUTH_RATE_PER_MINUTE: '100000' });
    proxy.retarget(relay.port);
    const [o1, o2] = await Promise.all(offline);
    assert.ok(o1!.id < o2!.id, 'offline sends stored in the order they were made');
    assert.equal(ca.queuedSends, 0);
    await ra.wait('open', (e) => e.reconnected);
    await rb.wait('open', (e) => e.reconnected);

    // A: the three missed messages, as catch-up, once each, in order; nothing else.
    await ra.wait('message', (m) => m.id === missed[2], 10_000);
    await rb.wait('message', (m) => m.id === o2!.id, 10_000);
    await sleep(500);
    const aGot = ra.all('message').filter((m) => m.id > answer.id);
    assert.deepEqual(contents(aGot), ['missed 1', 'missed 2', 'missed 3']);
    assert.ok(aGot.every((m) => m.catchUp), 'delivered by catch-up');
    // B: its other device's messages and A's offline ones, each once, in id order.
    const bGot = rb.all('message').filter((m) => m.id > answer.id);
    assert.deepEqual(contents(bGot), ['missed 1', 'missed 2', 'missed 3', 'offline 1', 'offline 2']);
    assert.deepEqual(bGot.map((m) => m.id), [...bGot.map((m) => m.id)].sort((x, y) => x - y));

    // Stored once each: the whole dialog as the server has it.
    const history = await ca.dialogHistory(b.id, { limit: 100 });
    assert.deepEqual(history.map((r) => r.content).reverse(),
      ['before 1', 'before 2', 'missed 1', 'missed 2', 'missed 3', 'offline 1', 'offline 2']);
    assert.deepEqual(ra.all('state').filter((s) => s === 'reconnecting' || s === 'open').slice(0, 3), ['open', 'reconnecting', 'open']);
  } finally {
    await proxy.close();
    await relay.stop();
  }
});

test('a send whose reply is lost on the wire is resent after the reconnect and stored once', async () => {
  const a = await signUp(fx.relay.http, 'Lost');
  const b = await signUp(fx.relay.http, 'Found');
  const proxy = await startProxy(fx.relay.port);
  try {
    const ca = sdk(proxy.url, a.token);
    const ra = new Recorder(ca, ['message', 'open']);
    await ca.connect();
    const bRaw = await fx.connect(b);

    proxy.holdReplies(true);
    const sending = ca.sendPrivate(b.id, 'reply lost');
    // Stored (B got it), but A never hears back; then the connection drops.
    const pushed = await bRaw.push('privateMessage', (d) => d.content === 'reply lost');
    proxy.cut();
    proxy.holdReplies(false);
    const stored = await sending;
    assert.equal(stored.id, pushed.params.data.id, 'the resend answers with the message stored the first time');
    await ra.wait('open', (e) => e.reconnected);
    await sleep(300);
    assert.equal(bRaw.pushes('privateMessage').filter((f) => f.params.data.content === 'reply lost').length, 1, 'pushed once');
    assert.deepEqual((await ca.dialogHistory(b.id)).map((r) => r.content), ['reply lost'], 'stored once');
    assert.equal(ra.all('message').length, 0, 'its own send is not an event');
  } finally {
    await proxy.close();
  }
});

test('sends made while offline wait in a bounded queue; the overflow rejects with QUEUE_FULL', async () => {
  const a = await signUp(fx.relay.http, 'Queue');
  const b = await signUp(fx.relay.http, 'Reader');
  const proxy = await startProxy(fx.relay.port);
  try {
    const ca = sdk(proxy.url, a.token, { maxQueuedSends: 2 });
    await ca.connect();
    proxy.refuse(true);
    proxy.cut();
    await sleep(50);
    const queued = [ca.sendPrivate(b.id, 'q1'), ca.sendPrivate(b.id, 'q2')];
    const overflow = await ca.sendPrivate(b.id, 'q3').catch((e: unknown) => e);
    assert.ok(overflow instanceof RelayError);
    assert.equal(overflow.code, 'QUEUE_FULL');
    proxy.refuse(false);
    const stored = await Promise.all(queued);
    assert.deepEqual(stored.map((m) => m.content), ['q1', 'q2']);
    assert.deepEqual((await ca.dialogHistory(b.id)).map((r) => r.content), ['q2', 'q1']);
  } finally {
    await proxy.close();
  }
});

test('4001: the token expires, the client asks getToken for a fresh one and reconnects', async () => {
  const a = await signUp(fx.relay.http, 'Expiring');
  const login = async (): Promise<string> => {
    const res = await http(shortRelay.http, 'POST', '/auth/login', { body: { email: a.email, password: a.password } });
    assert.equal(res.status, 200);
    return res.body.token as string;
  };
  let asked = 0;
  const c = sdk(shortRelay.ws, await login(), { getToken: async () => { asked++; return login(); } });
  const rec = new Recorder(c, ['reconnecting', 'open', 'closed']);
  await c.connect();
  const dropped = await rec.wait('reconnecting', (e) => e.code === 4001, 6000);
  assert.equal(dropped.delayMs, 0, 'no backoff: only the token was stale');
  await rec.wait('open', (e) => e.reconnected, 5000);
  assert.ok(asked >= 1, 'getToken was called');
  assert.deepEqual(await c.listChats(), []);
  assert.equal(rec.all('closed').length, 0);
});

test('4001 without getToken: the client stops with closed 4001', async () => {
  const a = await signUp(fx.relay.http, 'NoRefresh');
  const res = await http(shortRelay.http, 'POST', '/auth/login', { body: { email: a.email, password: a.password } });
  const c = sdk(shortRelay.ws, res.body.token);
  const rec = new Recorder(c, ['closed', 'connecting']);
  await c.connect();
  const closed = await rec.wait('closed', () => true, 6000);
  assert.equal(closed.code, 4001);
  assert.equal(c.state, 'closed');
});

test('4003: a revoked token stops the client for good; queued sends reject with CLOSED', async () => {
  const a = await signUp(fx.relay.http, 'Revoked');
  const c = sdk(fx.relay.ws, a.token, { getToken: () => assert.fail('no token is asked for after 4003') });
  const rec = new Recorder(c, ['closed', 'connecting', 'reconnecting']);
  await c.connect();
  const res = await http(fx.relay.http, 'PATCH', '/profile/password', { token: a.token, body: { oldPassword: a.password, newPassword: 'another-password-1' } });
  assert.equal(res.status, 200);
  const closed = await rec.wait('closed');
  assert.equal(closed.code, 4003);
  assert.equal(c.state, 'closed');
  const connectsBefore = rec.all('connecting').length;
  await sleep(1500);
  assert.equal(rec.all('connecting').length, connectsBefore, 'no reconnect attempt');
  assert.equal(rec.all('reconnecting').length, 0);
  const late = await c.sendPrivate(a.id, 'after revocation').catch((e: unknown) => e);
  assert.ok(late instanceof RelayError && late.code === 'CLOSED');
});

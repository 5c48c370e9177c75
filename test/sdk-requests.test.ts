// The SDK (relay-client) against a real server, v1: every request's typed reply, errors as
// RelayError with the protocol's code, every v1 push as an event, connection states, timeouts,
// the HTTP helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError, RelayHttp, type RelayClient } from 'relay-client';
import { signUp, type Account } from './helpers/client.js';
import { useRelay } from './helpers/protocol.js';
import { sdk, Recorder } from './helpers/sdk.js';
import { startProxy } from './helpers/proxy.js';

const fx = useRelay('sdk_requests', { AUTH_RATE_PER_MINUTE: '100000' });

const PUSHES = ['privateMessage', 'messageInGroup', 'addUserInGroup', 'leaveGroup', 'newGroup', 'message', 'state', 'connecting', 'open', 'closed'] as const;

async function connected(a: Account): Promise<{ c: RelayClient; rec: Recorder }> {
  const c = sdk(fx.relay.ws, a.token);
  const rec = new Recorder(c, [...PUSHES]);
  await c.connect();
  return { c, rec };
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<RelayError> {
  const err = await p.then(() => assert.fail(`expected ${code}`), (e: unknown) => e);
  assert.ok(err instanceof RelayError, `a RelayError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return err;
}

test('connection states: connecting then open; close() ends with closed 1000 and rejects what comes after', async () => {
  const a = await signUp(fx.relay.http, 'States');
  const c = sdk(fx.relay.ws, a.token);
  const rec = new Recorder(c, ['state', 'connecting', 'open', 'closed']);
  assert.equal(c.state, 'idle');
  assert.equal(c.userId, a.id, 'the user id comes from the token');
  await c.connect();
  assert.deepEqual(rec.all('state'), ['connecting', 'open']);
  assert.deepEqual(rec.all('open'), [{ reconnected: false }]);
  c.close();
  assert.deepEqual(rec.all('closed'), [{ code: 1000, reason: 'Closed by the client' }]);
  assert.equal(c.state, 'closed');
  await rejectsWith(c.listChats(), 'CLOSED');
  await rejectsWith(c.sendPrivate(a.id, 'late'), 'CLOSED');
});

test('dialogs: sendPrivate replies with the stored message; the receiver gets privateMessage and message events; histories and chat list', async () => {
  const a = await signUp(fx.relay.http, 'Ana');
  const b = await signUp(fx.relay.http, 'Ben');
  const { c: ca, rec: ra } = await connected(a);
  const { c: cb, rec: rb } = await connected(b);

  const sent = await ca.sendPrivate(b.id, 'hello Ben');
  assert.equal(sent.senderId, a.id);
  assert.equal(sent.receiverId, b.id);
  assert.equal(sent.content, 'hello Ben');
  assert.equal(typeof sent.id, 'number');

  const push = await rb.wait('privateMessage', (p) => p.data.id === sent.id);
  assert.deepEqual(push, { data: sent, message: 'hello Ben', senderName: 'Ana' });
  const msg = await rb.wait('message', (m) => m.id === sent.id);
  assert.equal(msg.content, 'hello Ben');
  assert.equal(msg.senderName, 'Ana');
  assert.equal(msg.catchUp, false);
  assert.equal(msg.receiverId, b.id);
  assert.equal(msg.groupId, null);
  // The sender's own send is not repeated as an event on the sending client.
  assert.equal(ra.all('message').length, 0);

  const reply = await cb.sendPrivate(a.id, 'hi Ana');
  await ra.wait('message', (m) => m.id === reply.id);

  const history = await ca.dialogHistory(b.id, { limit: 10 });
  assert.deepEqual(history.map((r) => r.id), [reply.id, sent.id], 'newest first');
  // History rows come as ChatMessage, the one shape of the `message` event; the wire row is in `raw`.
  const { raw, ...row } = history[1]!;
  assert.deepEqual(row, {
    id: sent.id, seq: sent.seq, senderId: a.id, senderName: 'Ana', receiverId: b.id, groupId: null,
    content: 'hello Ben', createdAt: sent.createdAt, editedAt: null, deletedAt: null,
    replyTo: null, mentions: [], reactions: [], attachments: [],
  });
  assert.deepEqual(raw, {
    id: sent.id, sender_id: a.id, receiver_id: b.id, receverName: 'Ben', senderName: 'Ana', content: 'hello Ben',
    created_at: sent.createdAt, seq: sent.seq, editedAt: null, deletedAt: null,
    replyTo: null, mentions: [], reactions: [], attachments: [],
  });
  const { catchUp: _live, ...received } = msg;
  const { raw: _raw, ...stored } = (await cb.dialogHistory(a.id, { beforeId: reply.id }))[0]!;
  assert.deepEqual(stored, received, 'a message reads the same from history as from the message event');
  const older = await ca.dialogHistory(b.id, { beforeId: reply.id });
  assert.deepEqual(older.map((r) => r.id), [sent.id]);
  const newer = await ca.dialogHistory(b.id, { afterId: sent.id });
  assert.deepEqual(newer.map((r) => r.id), [reply.id]);

  const chats = await cb.listChats({ limit: 5 });
  assert.equal(chats.length, 1);
  assert.equal(chats[0]!.id, reply.id);
  assert.equal(chats[0]!.receiverName, 'Ana');
});

test('groups: createGroup, addToGroup, sendToGroup, groupHistory, leaveGroup with their pushes as events', async () => {
  const a = await signUp(fx.relay.http, 'Gia');
  const b = await signUp(fx.relay.http, 'Gus');
  const { c: ca } = await connected(a);
  const { c: ca2, rec: ra2 } = await connected(a);
  const { c: cb, rec: rb } = await connected(b);

  const g = await ca.createGroup('Climbers');
  assert.equal(g.groupName, 'Climbers');
  const created = await ra2.wait('newGroup', (p) => p.data.groupId === g.groupId);
  assert.equal(created.message, 'Climbers was created');
  assert.equal(created.senderName, 'Gia');

  assert.equal(await ca.addToGroup(g.groupId, b.id), null);
  const added = await rb.wait('addUserInGroup', (p) => p.data.groupId === g.groupId);
  assert.deepEqual(added.data, { groupId: g.groupId, groupName: 'Climbers', userId: b.id, userName: 'Gus' });
  assert.equal(added.message, 'Gus was added to Climbers');

  const m = await ca.sendToGroup(g.groupId, 'rope check');
  assert.equal(m.groupId, g.groupId);
  const push = await rb.wait('messageInGroup', (p) => p.data.id === m.id);
  assert.equal(push.data.groupName, 'Climbers');
  assert.equal(push.senderName, 'Gia');
  const ev = await rb.wait('message', (x) => x.id === m.id);
  assert.equal(ev.groupId, g.groupId);
  await ra2.wait('message', (x) => x.id === m.id);

  const history = await cb.groupHistory(g.groupId);
  assert.deepEqual(history.map((r) => [r.id, r.content, r.senderName]), [[m.id, 'rope check', 'Gia']]);

  assert.equal(await cb.leaveGroup(g.groupId), null);
  const left = await ra2.wait('leaveGroup', (p) => p.data.userId === b.id);
  assert.equal(left.message, 'Gus left the group');
  await rejectsWith(cb.groupHistory(g.groupId), 'FORBIDDEN', /^User is not a member of this group$/);
});

test('errors reject with RelayError carrying the protocol code and the request type', async () => {
  const a = await signUp(fx.relay.http, 'Err');
  const { c } = await connected(a);
  const forbidden = await rejectsWith(c.sendToGroup(2147483000, 'x'), 'FORBIDDEN');
  assert.equal(forbidden.type, 'messageInGroup');
  await rejectsWith(c.sendPrivate(2147483000, 'x'), 'NOT_FOUND');
  await rejectsWith(c.sendPrivate(a.id, '   '), 'VALIDATION', /content/);
  await rejectsWith(c.createGroup(''), 'VALIDATION');
  await rejectsWith(c.dialogHistory(a.id, { limit: 1000 }), 'VALIDATION', /limit/);
  // The client still serves after errors.
  assert.deepEqual(await c.listChats(), []);
});

test('the same clientMessageId twice stores the message once; reused for other content it is a CONFLICT', async () => {
  const a = await signUp(fx.relay.http, 'Idem');
  const b = await signUp(fx.relay.http, 'Potent');
  const { c } = await connected(a);
  const first = await c.sendPrivate(b.id, 'once', { clientMessageId: 'fixed-1' });
  const again = await c.sendPrivate(b.id, 'once', { clientMessageId: 'fixed-1' });
  assert.equal(again.id, first.id);
  await rejectsWith(c.sendPrivate(b.id, 'other', { clientMessageId: 'fixed-1' }), 'CONFLICT');
  assert.equal((await c.dialogHistory(b.id)).length, 1);
});

test('requests time out when no reply comes; a read made while offline waits for the connection', async () => {
  const a = await signUp(fx.relay.http, 'Slow');
  const proxy = await startProxy(fx.relay.port);
  try {
    const c = sdk(proxy.url, a.token, { requestTimeoutMs: 600 });
    await c.connect();
    proxy.holdReplies(true);
    const started = Date.now();
    const err = await rejectsWith(c.listChats(), 'TIMEOUT');
    assert.equal(err.type, 'listLastMessage');
    assert.ok(Date.now() - started >= 550, 'after the time limit');
    proxy.holdReplies(false);
    c.close();

    const c2 = sdk(proxy.url, a.token);
    await c2.connect();
    proxy.refuse(true);
    proxy.cut();
    const rec = new Recorder(c2, ['open']);
    await new Promise((r) => setTimeout(r, 50));
    assert.notEqual(c2.state, 'open');
    const waiting = c2.listChats();
    await new Promise((r) => setTimeout(r, 250));
    proxy.refuse(false);
    await rec.wait('open');
    assert.deepEqual(await waiting, []);
  } finally {
    await proxy.close();
  }
});

test('HTTP helpers: sign-up, login, refresh, profile, search; failures are RelayErrors with code and status', async () => {
  const api = new RelayHttp(fx.relay.http);
  const email = `sdk.${Date.now()}@example.com`;
  const signed = await api.signUp({ email, password: 'password123', firstName: 'Helper', lastName: 'Http' });
  assert.equal(signed.user.email, email);
  const login = await api.login({ email, password: 'password123' });
  assert.equal(login.message, 'User is authorized');
  assert.equal(login.user.id, signed.user.id);
  const { token } = await api.refresh(login.token);
  assert.equal(typeof token, 'string');
  assert.equal((await api.getProfile(token)).firstName, 'Helper');
  assert.equal((await api.updateProfile(token, { firstName: 'Renamed' })).firstName, 'Renamed');
  const found = await api.searchUsers(token, { search: 'Renamed' });
  assert.ok(found.some((u) => u.id === signed.user.id));
  assert.deepEqual(Object.keys(found[0]!).sort(), ['firstName', 'id', 'lastName']);

  const wrong = await api.login({ email, password: 'wrong-password' }).then(() => assert.fail('login with a wrong password'), (e: unknown) => e);
  assert.ok(wrong instanceof RelayError);
  assert.equal(wrong.code, 'UNAUTHORIZED');
  assert.equal(wrong.status, 401);
  const taken = await api.signUp({ email, password: 'password123', firstName: 'Again' }).catch((e: unknown) => e);
  assert.ok(taken instanceof RelayError);
  assert.equal(taken.code, 'CONFLICT');
  assert.equal(taken.status, 409);
  const bad = await api.getProfile('not-a-token').catch((e: unknown) => e);
  assert.ok(bad instanceof RelayError && bad.status === 401);
});

// WebSocket connection: authentication at the upgrade (header and subprotocol), refusals, paths,
// several connections per user, requestId echo. PROTOCOL.md "Connection" and "Envelope".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SignJWT } from 'jose';
import { TEST_SECRET } from './helpers/server.js';
import { http, signUp } from './helpers/client.js';
import { useRelay, settle, assertReply, ok, expect401 as expect401On, type AuthHow } from './helpers/protocol.js';

const fx = useRelay('ws_connection', { AUTH_RATE_PER_MINUTE: '100000' });
const { connect } = fx;

/** Opens a raw `ws` socket with the given options and resolves with the HTTP status of a refusal. */
function refusedStatus(url: string, protocols?: string[], headers?: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols ?? [], { headers });
    ws.once('open', () => { ws.terminate(); reject(new Error('upgrade was accepted')); });
    ws.once('unexpected-response', (req, res) => { resolve(res.statusCode ?? 0); req.destroy(); });
    ws.once('error', (err) => reject(err));
  });
}

/** Expects Client.connect to this file's server to be refused with HTTP 401. */
const expect401 = (token: string, how: AuthHow = 'header'): Promise<void> => expect401On(fx.relay.ws, token, how);

test('Authorization: Bearer authenticates the upgrade; the socket acts as that user', async () => {
  const a = await signUp(fx.relay.http, 'Hedda');
  const b = await signUp(fx.relay.http, 'Hugo');
  const c = await connect(a, 'header');
  assert.equal(c.ws.protocol, '', 'no subprotocol is chosen for header auth');
  const sent = assertReply(await c.request('privateMessage', { receiverId: b.id, content: 'via header' }), 'privateMessage');
  assert.equal(sent.senderId, a.id);
  assert.equal(sent.receiverId, b.id);
});

test('Sec-WebSocket-Protocol: auth, <token> authenticates and the server answers protocol "auth"', async () => {
  const a = await signUp(fx.relay.http, 'Pia');
  const b = await signUp(fx.relay.http, 'Paul');
  const c = await connect(a, 'protocol');
  assert.equal(c.ws.protocol, 'auth');
  const sent = assertReply(await c.request('privateMessage', { receiverId: b.id, content: 'via protocol' }), 'privateMessage');
  assert.equal(sent.senderId, a.id);
  // The token really is the identity: B's own socket by subprotocol sees the message from A.
  const cb = await connect(b, 'protocol');
  const history = assertReply(await cb.request('getlatestMessageDialog', { receiverId: a.id }), 'getlatestMessageDialog');
  assert.equal(history.length, 1);
  assert.equal(history[0].sender_id, a.id);
  assert.equal(history[0].content, 'via protocol');
});

test('the upgrade is accepted on any path', async () => {
  const a = await signUp(fx.relay.http, 'Path');
  for (const p of ['/', '/some/path', '/ws?x=1', '/api/']) {
    const c = await connect(a, 'header', fx.relay.ws + p);
    assert.deepEqual(assertReply(await c.request('listLastMessage', {}), 'listLastMessage'), []);
    const cp = await connect(a, 'protocol', fx.relay.ws + p);
    assert.equal(cp.ws.protocol, 'auth');
    assertReply(await cp.request('listLastMessage', {}), 'listLastMessage');
  }
});

test('a missing token is refused with HTTP 401', async () => {
  assert.equal(await refusedStatus(fx.relay.ws), 401);
  await expect401('', 'header'); // "Authorization: Bearer " with nothing after it
  assert.equal(await refusedStatus(`${fx.relay.ws}/some/path`), 401);
  // The subprotocol without a token, or with another first word, carries no token.
  assert.equal(await refusedStatus(fx.relay.ws, ['auth']), 401);
  const a = await signUp(fx.relay.http, 'Nope');
  assert.equal(await refusedStatus(fx.relay.ws, ['bearer', a.token]), 401);
  // A valid token in another scheme than Bearer is not taken.
  assert.equal(await refusedStatus(fx.relay.ws, [], { authorization: `Basic ${a.token}` }), 401);
  assert.equal(await refusedStatus(fx.relay.ws, [], { authorization: a.token }), 401);
});

test('malformed tokens are refused with HTTP 401', async () => {
  const a = await signUp(fx.relay.http, 'Mal');
  for (const bad of ['x', 'not.a.jwt', `${a.token}x`, a.token.slice(0, -4), a.token.split('.').slice(0, 2).join('.')]) {
    await expect401(bad, 'header');
    await expect401(bad, 'protocol');
  }
});

test('forged tokens are refused with HTTP 401', async () => {
  const a = await signUp(fx.relay.http, 'Forge');
  const b = await signUp(fx.relay.http, 'Victim');
  const now = Math.floor(Date.now() / 1000);
  const claims = (id: number, tv = 0) => ({ id, sub: String(id), email: 'x@example.com', firstName: 'X', tv, iat: now, exp: now + 3600 });
  // Signed with another secret.
  const otherKey = new TextEncoder().encode('another-secret-another-secret-another-secret-0');
  await expect401(await new SignJWT(claims(b.id)).setProtectedHeader({ alg: 'HS256' }).sign(otherKey));
  // alg "none".
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  await expect401(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(b.id))}.`);
  // A's real signature over a payload that names B.
  const [header, , signature] = a.token.split('.');
  await expect401(`${header}.${b64(claims(b.id))}.${signature}`, 'protocol');
  // Correctly signed, but for an account that does not exist, or with a stale token version.
  const key = new TextEncoder().encode(TEST_SECRET);
  await expect401(await new SignJWT(claims(999_999)).setProtectedHeader({ alg: 'HS256' }).sign(key));
  await expect401(await new SignJWT(claims(b.id, 7)).setProtectedHeader({ alg: 'HS256' }).sign(key));
  // Correctly signed but already expired.
  await expect401(await new SignJWT({ ...claims(b.id), iat: now - 100, exp: now - 50 }).setProtectedHeader({ alg: 'HS256' }).sign(key));
  // Control: the same construction with the right claims is accepted, so the refusals above are about the forgery.
  const good = await new SignJWT(claims(b.id)).setProtectedHeader({ alg: 'HS256' }).sign(key);
  const c = await connect(good);
  assertReply(await c.request('listLastMessage', {}), 'listLastMessage');
});

test('handshakes at the same moment are each judged on their own account: revoked ones refused, the rest act as themselves with their own groups', async () => {
  // The server looks up the accounts of concurrent handshakes together: no answer may leak to another.
  const accounts = await Promise.all(Array.from({ length: 16 }, (_, i) => signUp(fx.relay.http, `Burst${i}`)));
  const receiver = await signUp(fx.relay.http, 'BurstReceiver');
  const revoked = new Set([accounts[3]!.id, accounts[8]!.id, accounts[13]!.id]);
  const deleted = accounts[11]!;
  for (const a of accounts.filter((x) => revoked.has(x.id))) {
    const changed = await http(fx.relay.http, 'PATCH', '/profile/password', { token: a.token, body: { oldPassword: a.password, newPassword: 'another-password' } });
    assert.equal(changed.status, 200);
  }
  assert.equal((await http(fx.relay.http, 'DELETE', '/profile', { token: deleted.token })).status, 200);
  // Every other account is in a group of its own with the receiver.
  const live = accounts.filter((a) => !revoked.has(a.id) && a.id !== deleted.id);
  const rc = await connect(receiver);
  const groupOf = new Map<number, number>();
  for (const a of live) {
    const { groupId } = await ok(rc, 'newGroup', { groupName: `burst ${a.id}` });
    await ok(rc, 'addUserInGroup', { groupId, userId: a.id });
    groupOf.set(a.id, groupId);
  }

  const outcomes = await Promise.allSettled(accounts.map((a, i) => connect(a, i % 2 === 0 ? 'header' : 'protocol')));
  for (const [i, outcome] of outcomes.entries()) {
    const a = accounts[i]!;
    if (revoked.has(a.id) || a.id === deleted.id) {
      assert.equal(outcome.status, 'rejected', `${a.firstName}: refused`);
      assert.equal((outcome as PromiseRejectedResult).reason.status, 401);
      continue;
    }
    assert.equal(outcome.status, 'fulfilled', `${a.firstName}: accepted`);
    const c = (outcome as PromiseFulfilledResult<Awaited<ReturnType<typeof connect>>>).value;
    assert.equal((await ok(c, 'privateMessage', { receiverId: receiver.id, content: 'me' })).senderId, a.id);
    // Subscribed at the handshake to its own group, and to no one else's.
    const sent = await ok(rc, 'messageInGroup', { groupId: groupOf.get(a.id), content: `to ${a.id}` });
    assert.equal((await c.push('messageInGroup', (d) => d.id === sent.id)).params.data.groupId, groupOf.get(a.id));
  }
  const opened = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  await settle(opened);
  for (const [i, c] of opened.entries()) {
    assert.equal(c.frames.filter((f) => f.type === 'messageInGroup').length, 1, `socket #${i}: only its own group's message`);
  }
});

test('a burst of upgrades with partners online and groups: every socket stays open and is answered (uWebSockets#1928 workaround)', async () => {
  // Bursts of upgrades resume many handshakes in one turn, each with presence work and groups.
  // (uWS may still end one right after its 101, uWebSockets#1928: connect reconnects it, as clients do.)
  const n = 40;
  const accounts = await Promise.all(Array.from({ length: n }, (_, i) => signUp(fx.relay.http, `Wave${i}`)));
  const first = await Promise.all(accounts.map((a) => connect(a)));
  // A ring of dialogs (presence partners) and groups of four: each handshake below has work to do.
  await Promise.all(first.map((c, i) => ok(c, 'privateMessage', { receiverId: accounts[(i + 1) % n]!.id, content: 'ring' })));
  for (let g = 0; g < n; g += 4) {
    const { groupId } = await ok(first[g]!, 'newGroup', { groupName: `wave ${g}` });
    for (let k = 1; k < 4; k++) await ok(first[g]!, 'addUserInGroup', { groupId, userId: accounts[g + k]!.id });
  }
  await Promise.all(first.map((c) => c.close()));
  for (let round = 0; round < 3; round++) {
    const wave = await Promise.all(accounts.map((a, i) => connect(a, i % 2 === 0 ? 'header' : 'protocol')));
    const replies = await Promise.all(wave.map((c) => c.request('listLastMessage', {})));
    for (const [i, r] of replies.entries()) assert.ok(assertReply(r, 'listLastMessage').length >= 2, `socket #${i}: its chat list`);
    assert.deepEqual(wave.filter((c) => c.closeCode !== undefined).map((c) => c.closeCode), [], 'no socket closed');
    await Promise.all(wave.map((c) => c.close()));
  }
});

test('several connections of one user each get exactly their own replies', async () => {
  const a = await signUp(fx.relay.http, 'Multi');
  const b = await signUp(fx.relay.http, 'Other');
  const conns = [await connect(a, 'header'), await connect(a, 'protocol'), await connect(a, 'header')];
  // Every Client numbers its requests from 1: the same requestId on three sockets at once.
  const [r1, r2, r3] = await Promise.all([
    conns[0]!.request('privateMessage', { receiverId: b.id, content: 'one' }),
    conns[1]!.request('listLastMessage', { limit: 5 }),
    conns[2]!.request('getlatestMessageDialog', { receiverId: b.id }),
  ]);
  assert.equal(r1.requestId, 1);
  assert.equal(r1.type, 'privateMessage');
  assert.equal(r2.requestId, 1);
  assert.equal(r2.type, 'listLastMessage');
  assert.equal(r3.requestId, 1);
  assert.equal(r3.type, 'getlatestMessageDialog');
  await settle(conns);
  for (const c of conns) {
    assert.equal(c.frames.filter((f) => f.requestId !== undefined).length, 1, 'one reply per socket, no one else\'s');
  }
});

test('requestId is echoed exactly (string or number), and absent when the request had none', async () => {
  const a = await signUp(fx.relay.http, 'Echo');
  const c = await connect(a);
  const ids: (string | number)[] = ['req-α-1', 0, 42.5, -3, ''];
  for (const requestId of ids) {
    c.sendRaw(JSON.stringify({ type: 'listLastMessage', params: {}, requestId }));
    const f = await c.wait((x) => x.requestId === requestId && x.type === 'listLastMessage', 3000, `reply ${String(requestId)}`);
    assert.equal(f.success, true);
  }
  // An error reply echoes it too.
  c.sendRaw(JSON.stringify({ type: 'privateMessage', params: {}, requestId: 'err-1' }));
  const err = await c.wait((x) => x.requestId === 'err-1', 3000, 'error reply');
  assert.equal(err.error, true);
  assert.equal(err.code, 'VALIDATION');
  // Without requestId: the reply has no requestId key at all.
  const before = c.frames.length;
  c.sendRaw(JSON.stringify({ type: 'listLastMessage', params: { limit: 3 } }));
  const plain = await c.wait((x) => c.frames.indexOf(x) >= before, 3000, 'reply without requestId');
  assert.deepEqual(Object.keys(plain).sort(), ['params', 'success', 'type']);
  assert.equal(plain.type, 'listLastMessage');
  assert.deepEqual(plain.params, { data: [], message: null, senderName: null });
});

test('a refused upgrade is an ordinary HTTP error answer: JSON error body and the security headers', async () => {
  const answer = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const ws = new WebSocket(fx.relay.ws, { headers: { authorization: 'Bearer not-a-token' } });
    ws.once('open', () => { ws.terminate(); reject(new Error('upgrade was accepted')); });
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }); req.destroy(); });
    });
    ws.once('error', reject);
  });
  assert.equal(answer.status, 401);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message']);
  assert.equal(body.code, 'UNAUTHORIZED');
  assert.equal(body.error, true);
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  assert.equal(answer.headers['x-content-type-options'], 'nosniff');
  assert.equal(answer.headers['x-frame-options'], 'DENY');
  assert.equal(answer.headers['cache-control'], 'no-store');
});

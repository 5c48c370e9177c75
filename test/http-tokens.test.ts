// Issue #2: access tokens over real HTTP and the WebSocket upgrade: missing, malformed, forged,
// unsigned, tampered, revoked and expired tokens (PROTOCOL.md, "Connection" and "HTTP API").
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, TEST_SECRET, type RelayProcess } from './helpers/server.js';
import { http, signUp, sleep, Client, type Account, type HttpAnswer } from './helpers/client.js';
import { assertError, assertLogsClean } from './helpers/kit.js';

let db: TestDatabase;
let relay: RelayProcess;
/** The same database and secret, but tokens that live one second. */
let shortLived: RelayProcess;
let alice: Account;
let bob: Account;
const secrets = new Set<string>();
const clients: Client[] = [];

before(async () => {
  db = await createTestDatabase('http_tokens');
  relay = await startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000' });
  shortLived = await startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000', JWT_TTL: '1' });
  [alice, bob] = await Promise.all([signUp(relay.http, 'Alice'), signUp(relay.http, 'Bob')]);
  for (const a of [alice, bob]) secrets.add(a.password).add(a.token);
});
after(async () => {
  for (const c of clients) if (c.closeCode === undefined) await c.close().catch(() => undefined);
  await Promise.all([relay?.stop(), shortLived?.stop()]);
  await db?.drop();
});


const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const payloadOf = (token: string): Record<string, any> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
const now = (): number => Math.floor(Date.now() / 1000);

/** The claims a Relay token carries for `a` (tv 0: a fresh account). */
const claimsOf = (a: Account): Record<string, unknown> => ({ id: a.id, email: a.email, firstName: a.firstName, tv: 0 });

async function sign(claims: Record<string, unknown>, opts: { secret?: string; alg?: string; sub?: string; exp?: number } = {}): Promise<string> {
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
    .setSubject(opts.sub ?? String(claims.id))
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? now() + 3600)
    .sign(new TextEncoder().encode(opts.secret ?? TEST_SECRET));
  secrets.add(token);
  return token;
}

const profile = (token: string | undefined, base = relay.http): Promise<HttpAnswer> =>
  http(base, 'GET', '/profile', token === undefined ? {} : { token });

async function upgradeStatus(token: string, how: 'header' | 'protocol' = 'header', base = relay.ws): Promise<number | undefined> {
  try {
    const c = await Client.connect(base, token, how);
    clients.push(c);
    await c.close();
    return 101;
  } catch (err) {
    return (err as { status?: number }).status;
  }
}

const PROTECTED: [string, string, unknown?][] = [
  ['GET', '/profile'],
  ['PATCH', '/profile', { firstName: 'Nobody' }],
  ['PATCH', '/profile/password', { oldPassword: 'password123', newPassword: 'password456' }],
  ['DELETE', '/profile'],
  ['POST', '/auth/refresh'],
  ['GET', '/users'],
  ['GET', '/users?search=Alice'],
];

describe('HTTP: tokens that must be refused', () => {
  test('a missing Authorization header is 401 UNAUTHORIZED on every protected route', async () => {
    for (const [method, path, body] of PROTECTED) {
      assertError(await http(relay.http, method, path, body === undefined ? {} : { body }), 401, 'UNAUTHORIZED', `${method} ${path}`);
    }
    // Nothing happened to anyone.
    assert.equal((await profile(alice.token)).status, 200);
  });

  test('malformed Authorization headers are 401 on every protected route', async () => {
    const headers = [
      'Bearer garbage', 'Bearer ', 'Bearer', 'Bearer a.b.c', 'Bearer ...', `Basic ${Buffer.from('a:b').toString('base64')}`,
      alice.token, `Token ${alice.token}`, `Bearer ${alice.token} ${alice.token}`, `Bearer ${alice.token}x`, `Bearer ${alice.token.slice(0, -3)}`,
    ];
    for (const authorization of headers) {
      for (const [method, path, body] of PROTECTED) {
        const res = await http(relay.http, method, path, { headers: { authorization }, ...(body === undefined ? {} : { body }) });
        assertError(res, 401, 'UNAUTHORIZED', `${method} ${path} with "${authorization.slice(0, 20)}"`);
      }
    }
    // The same token, well formed, works (and the scheme is case-insensitive).
    assert.equal((await http(relay.http, 'GET', '/profile', { headers: { authorization: `Bearer ${alice.token}` } })).status, 200);
    assert.equal((await http(relay.http, 'GET', '/profile', { headers: { authorization: `bearer ${alice.token}` } })).status, 200);
  });

  test('a token of the right shape signed with another secret is 401 (the same claims with the real secret work)', async () => {
    const genuine = await sign(claimsOf(alice));
    const me = await profile(genuine);
    assert.equal(me.status, 200, `the claims used are not what Relay issues: ${JSON.stringify(me.body)}`);
    assert.equal(me.body.id, alice.id);

    const forged = await sign(claimsOf(alice), { secret: 'another-secret-another-secret-another-secret-42' });
    assert.deepEqual(payloadOf(forged).id, alice.id);
    assertError(await profile(forged), 401, 'UNAUTHORIZED', 'forged');
    assertError(await http(relay.http, 'POST', '/auth/refresh', { token: forged }), 401, 'UNAUTHORIZED', 'forged refresh');
    assertError(await http(relay.http, 'DELETE', '/profile', { token: forged }), 401, 'UNAUTHORIZED', 'forged delete');
    assert.equal((await profile(alice.token)).status, 200, 'the forged delete must not have deleted anything');
  });

  test('an unsigned token (alg: none) is 401', async () => {
    const payload = { ...claimsOf(alice), sub: String(alice.id), iat: now(), exp: now() + 3600 };
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    secrets.add(unsigned);
    assertError(await profile(unsigned), 401, 'UNAUTHORIZED', 'alg none');
    // With a real token's signature pasted on.
    const withSignature = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.${alice.token.split('.')[2]}`;
    assertError(await profile(withSignature), 401, 'UNAUTHORIZED', 'alg none with signature');
    const noneUpper = `${b64({ alg: 'None', typ: 'JWT' })}.${b64(payload)}.`;
    assertError(await profile(noneUpper), 401, 'UNAUTHORIZED', 'alg None');
  });

  test('a token signed with the real secret but another algorithm (HS512) is 401', async () => {
    const hs512 = await sign(claimsOf(alice), { alg: 'HS512' });
    assertError(await profile(hs512), 401, 'UNAUTHORIZED', 'HS512');
  });

  test("a real token whose payload is swapped for someone else's is 401", async () => {
    const [header, , signature] = alice.token.split('.');
    const bobPayload = b64({ ...payloadOf(alice.token), id: bob.id, sub: String(bob.id), email: bob.email });
    const tampered = `${header}.${bobPayload}.${signature}`;
    secrets.add(tampered);
    assertError(await profile(tampered), 401, 'UNAUTHORIZED', 'tampered');
  });

  test('well-signed tokens with wrong claims are 401: stale version, unknown account, string id, sub not matching id, expired', async () => {
    const cases: [string, Promise<string>][] = [
      ['tv 1 for an account at 0', sign({ ...claimsOf(alice), tv: 1 })],
      ['no tv', sign({ id: alice.id, email: alice.email, firstName: alice.firstName })],
      ['unknown id', sign({ ...claimsOf(alice), id: 987654 })],
      ['id as a string', sign({ ...claimsOf(alice), id: String(alice.id) })],
      ['sub of another user', sign(claimsOf(alice), { sub: String(bob.id) })],
      ['expired a minute ago', sign(claimsOf(alice), { exp: now() - 60 })],
    ];
    for (const [what, token] of cases) {
      const t = await token;
      assertError(await profile(t), 401, 'UNAUTHORIZED', what);
      assert.equal(await upgradeStatus(t), 401, `upgrade with ${what}`);
    }
  });
});

describe('WebSocket upgrade', () => {
  test('no token, garbage, forged or unsigned tokens get 401 and no socket', async () => {
    const forged = await sign(claimsOf(bob), { secret: 'yet-another-secret-yet-another-secret-yet-another' });
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claimsOf(bob), sub: String(bob.id), exp: now() + 3600 })}.`;
    for (const [what, token] of [['empty', ''], ['garbage', 'garbage'], ['forged', forged], ['unsigned', unsigned]] as const) {
      assert.equal(await upgradeStatus(token, 'header'), 401, `${what} in Authorization`);
      if (token) assert.equal(await upgradeStatus(token, 'protocol'), 401, `${what} in Sec-WebSocket-Protocol`);
    }
  });

  test('a valid token opens a socket, in the Authorization header or as Sec-WebSocket-Protocol: auth, <token>', async () => {
    const byHeader = await Client.connect(relay.ws, bob.token, 'header');
    clients.push(byHeader);
    const byProtocol = await Client.connect(relay.ws, bob.token, 'protocol');
    clients.push(byProtocol);
    assert.equal(byProtocol.ws.protocol, 'auth');
    for (const c of [byHeader, byProtocol]) {
      const reply = await c.request('listLastMessage', {});
      assert.equal(reply.success, true, JSON.stringify(reply));
      await c.close();
    }
  });
});

describe('expiry (JWT_TTL=1)', () => {
  test('JWT_TTL=1 gives one-second tokens; a token works until it expires, then its socket closes with 4001 and HTTP answers 401', async () => {
    const refreshed = await http(shortLived.http, 'POST', '/auth/refresh', { token: bob.token });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    const short = refreshed.body.token as string;
    secrets.add(short);
    const p = payloadOf(short);
    assert.equal(p.exp - p.iat, 1, `JWT_TTL=1 must give a one-second token, got ${p.exp - p.iat}`);

    // Whether a one-second token is used within its second depends on the machine's load: the
    // live-then-expired path runs on a token signed here with a few seconds to live instead.
    const exp = now() + 4;
    const token = await sign(claimsOf(bob), { exp });
    const socket = await Client.connect(shortLived.ws, token);
    clients.push(socket);
    const live = await profile(token, shortLived.http);
    assert.equal(live.status, 200, `a token before its expiry refused: ${JSON.stringify(live.body)}`);

    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      socket.closed,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('socket not closed 3 s after expiry')), exp * 1000 + 3000 - Date.now()); }),
    ]).finally(() => clearTimeout(timer));
    assert.equal(code, 4001);
    assert.ok(Date.now() >= exp * 1000 - 50, 'closed before the token expired');

    // A full second past both expiries (JWT exp has one-second resolution), by the clock, not a guess.
    await sleep(Math.max(0, (exp + 1) * 1000 - Date.now()));
    for (const t of [short, token]) {
      assertError(await profile(t, shortLived.http), 401, 'UNAUTHORIZED', 'expired on the short server');
      assertError(await profile(t), 401, 'UNAUTHORIZED', 'expired on the other server');
      assertError(await http(shortLived.http, 'POST', '/auth/refresh', { token: t }), 401, 'UNAUTHORIZED', 'refresh with an expired token');
      assert.equal(await upgradeStatus(t, 'header', shortLived.ws), 401);
    }
    // The long-lived token of the same account is unaffected.
    assert.equal((await profile(bob.token, shortLived.http)).status, 200);
  });
});

test('the server logs hold no password, no token, no secret, and no error', async () => {
  await sleep(200);
  const logs = [...relay.logs, ...shortLived.logs];
  assert.ok(logs.filter((l) => l.msg === 'listening').length === 2, 'the logs were not captured');
  assertLogsClean(logs, { secrets, atLeast: 15 });
});

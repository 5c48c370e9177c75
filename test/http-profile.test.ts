// Issue #2: GET/PATCH/DELETE /profile, PATCH /profile/password, POST /auth/refresh over real HTTP,
// with the revocation rules of PROTOCOL.md ("Connection", "HTTP API").
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { http, signUp, sleep, Client, type Account, type HttpAnswer } from './helpers/client.js';
import { assertError, assertLogsClean } from './helpers/kit.js';

let db: TestDatabase;
let relay: RelayProcess;
const secrets = new Set<string>();
const clients: Client[] = [];

before(async () => {
  db = await createTestDatabase('http_profile');
  relay = await startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000' });
});
after(async () => {
  for (const c of clients) if (c.closeCode === undefined) await c.close().catch(() => undefined);
  await relay?.stop();
  await db?.drop();
});

const USER_KEYS = ['createdAt', 'email', 'firstName', 'id', 'lastName'];


function payloadOf(token: string): Record<string, any> {
  const part = token.split('.')[1];
  assert.ok(part, `not a JWT: ${token}`);
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

async function account(firstName: string): Promise<Account> {
  const a = await signUp(relay.http, firstName);
  secrets.add(a.password).add(a.token);
  return a;
}

async function connect(token: string, how: 'header' | 'protocol' = 'header'): Promise<Client> {
  const c = await Client.connect(relay.ws, token, how);
  clients.push(c);
  return c;
}

/** Resolves with the close code, or fails the test if the socket stays open. */
async function closedWithin(c: Client, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      c.closed,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function upgradeStatus(token: string): Promise<number | undefined> {
  try {
    const c = await connect(token);
    await c.close();
    return 101;
  } catch (err) {
    return (err as { status?: number }).status;
  }
}

const login = (email: string, password: string): Promise<HttpAnswer> =>
  http(relay.http, 'POST', '/auth/login', { body: { email, password } });

describe('GET /profile', () => {
  test('200 with exactly the user shape', async () => {
    const a = await account('Getter');
    const res = await http(relay.http, 'GET', '/profile', { token: a.token });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), USER_KEYS);
    assert.equal(res.body.id, a.id);
    assert.equal(res.body.email, a.email);
    assert.equal(res.body.firstName, 'Getter');
    assert.equal(res.body.lastName, null);
    assert.ok(!Number.isNaN(Date.parse(res.body.createdAt)));
    assert.ok(!/argon2|password/i.test(JSON.stringify(res.body)));
  });

  test('without a token: 401 UNAUTHORIZED', async () => {
    assertError(await http(relay.http, 'GET', '/profile'), 401, 'UNAUTHORIZED');
  });
});

describe('PATCH /profile', () => {
  test('changes firstName and lastName; the rest stays; GET shows the change', async () => {
    const a = await account('Patchy');
    const before = (await http(relay.http, 'GET', '/profile', { token: a.token })).body;
    const res = await http(relay.http, 'PATCH', '/profile', { token: a.token, body: { firstName: 'Renamed', lastName: 'Surname' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { ...before, firstName: 'Renamed', lastName: 'Surname' });
    const after = await http(relay.http, 'GET', '/profile', { token: a.token });
    assert.deepEqual(after.body, res.body);

    // Only what is given changes; lastName: null clears it.
    const onlyLast = await http(relay.http, 'PATCH', '/profile', { token: a.token, body: { lastName: null } });
    assert.equal(onlyLast.status, 200);
    assert.deepEqual(onlyLast.body, { ...before, firstName: 'Renamed', lastName: null });
  });

  test('changes the email: login works with the new one, not the old one', async () => {
    const a = await account('Mover');
    const newEmail = `moved.${randomBytes(5).toString('hex')}@example.org`;
    const res = await http(relay.http, 'PATCH', '/profile', { token: a.token, body: { email: newEmail } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.email, newEmail);
    assert.equal(res.body.id, a.id);
    const ok = await login(newEmail.toUpperCase(), a.password);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.user.id, a.id);
    secrets.add(ok.body.token);
    assertError(await login(a.email, a.password), 401, 'UNAUTHORIZED');
    // The old email is free again.
    const other = await http(relay.http, 'POST', '/auth/sign-up', { body: { email: a.email, password: 'password123', firstName: 'Taker' } });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    secrets.add(other.body.token);
  });

  test("changing the email to another account's email, in other case, is 409 CONFLICT and changes nothing", async () => {
    const a = await account('Owner');
    const b = await account('Thief');
    const before = (await http(relay.http, 'GET', '/profile', { token: b.token })).body;
    for (const email of [a.email, a.email.toUpperCase()]) {
      const res = await http(relay.http, 'PATCH', '/profile', { token: b.token, body: { email, firstName: 'Changed' } });
      assertError(res, 409, 'CONFLICT');
    }
    const after = await http(relay.http, 'GET', '/profile', { token: b.token });
    assert.deepEqual(after.body, before);
    // Changing the case of one's own email is not a conflict.
    const own = await http(relay.http, 'PATCH', '/profile', { token: b.token, body: { email: b.email.toUpperCase() } });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.body.email, b.email.toUpperCase());
  });

  test('bad types and bad values are 400 VALIDATION naming the field; malformed JSON is 400 BAD_REQUEST', async () => {
    const a = await account('Strict');
    const before = (await http(relay.http, 'GET', '/profile', { token: a.token })).body;
    const cases: [string, unknown][] = [
      ['firstName', 5], ['firstName', ''], ['firstName', '   '], ['firstName', null], ['firstName', 'x'.repeat(101)],
      ['lastName', 7], ['lastName', ['x']],
      ['email', 'not-an-email'], ['email', 42], ['email', null], ['email', 'a\u0000@example.com'],
      ['firstName', 'A\u0000'], ['lastName', '\ud800'], ['firstName', '\u{1F600}'.repeat(101)],
    ];
    for (const [field, value] of cases) {
      const res = await http(relay.http, 'PATCH', '/profile', { token: a.token, body: { [field]: value } });
      assertError(res, 400, 'VALIDATION', new RegExp(field));
    }
    const bad = await http(relay.http, 'PATCH', '/profile', { token: a.token, raw: '{"firstName":', headers: { 'content-type': 'application/json' } });
    assertError(bad, 400, 'BAD_REQUEST');
    const after = await http(relay.http, 'GET', '/profile', { token: a.token });
    assert.deepEqual(after.body, before);
  });

  test('a patch with nothing in it is 200 and changes nothing', async () => {
    const a = await account('Still');
    const before = (await http(relay.http, 'GET', '/profile', { token: a.token })).body;
    const empty = await http(relay.http, 'PATCH', '/profile', { token: a.token, body: {} });
    assert.equal(empty.status, 200, JSON.stringify(empty.body));
    assert.deepEqual(empty.body, before);
    const unknownOnly = await http(relay.http, 'PATCH', '/profile', { token: a.token, body: { nickname: 'ignored' } });
    assert.equal(unknownOnly.status, 200);
    assert.deepEqual(unknownOnly.body, before);
    const noBody = await http(relay.http, 'PATCH', '/profile', { token: a.token });
    assert.equal(noBody.status, 200, JSON.stringify(noBody.body));
    assert.deepEqual(noBody.body, before);
  });

  test('without a valid token: 401', async () => {
    assertError(await http(relay.http, 'PATCH', '/profile', { body: { firstName: 'X' } }), 401, 'UNAUTHORIZED');
    assertError(await http(relay.http, 'PATCH', '/profile', { token: 'garbage', body: { firstName: 'X' } }), 401, 'UNAUTHORIZED');
  });
});

describe('PATCH /profile/password', () => {
  test('a wrong old password is 401 and changes nothing', async () => {
    const a = await account('Wrong');
    const res = await http(relay.http, 'PATCH', '/profile/password', { token: a.token, body: { oldPassword: 'not-my-password', newPassword: 'brand-new-password' } });
    secrets.add('brand-new-password');
    assertError(res, 401, 'UNAUTHORIZED');
    assert.equal((await http(relay.http, 'GET', '/profile', { token: a.token })).status, 200, 'the token must still work');
    const ok = await login(a.email, a.password);
    assert.equal(ok.status, 200);
    secrets.add(ok.body.token);
    assertError(await login(a.email, 'brand-new-password'), 401, 'UNAUTHORIZED');
  });

  test('bad new passwords and missing fields are 400 VALIDATION', async () => {
    const a = await account('Short');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ oldPassword: a.password, newPassword: 'seven77' }, /newPassword/],
      [{ oldPassword: a.password, newPassword: 'z'.repeat(257) }, /newPassword/],
      [{ oldPassword: a.password, newPassword: 12345678 }, /newPassword/],
      [{ oldPassword: a.password }, /newPassword/],
      [{ newPassword: 'long-enough-password' }, /oldPassword/],
      [{ oldPassword: 12345678, newPassword: 'long-enough-password' }, /oldPassword/],
    ];
    for (const [body, message] of cases) {
      const res = await http(relay.http, 'PATCH', '/profile/password', { token: a.token, body });
      assertError(res, 400, 'VALIDATION', message);
    }
    assertError(await http(relay.http, 'PATCH', '/profile/password', { token: a.token, raw: 'nope', headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
    // Nothing changed.
    assert.equal((await http(relay.http, 'GET', '/profile', { token: a.token })).status, 200);
    const ok = await login(a.email, a.password);
    assert.equal(ok.status, 200);
    secrets.add(ok.body.token);
  });

  test('success: 200 {token}; every older token stops working, old sockets close with 4003, the new token works', async () => {
    const a = await account('Changer');
    const second = await login(a.email, a.password); // another device's token
    assert.equal(second.status, 200);
    secrets.add(second.body.token);
    const wsHeader = await connect(a.token, 'header');
    const wsProtocol = await connect(second.body.token, 'protocol');
    const bystander = await account('Bystander');
    const other = await connect(bystander.token);

    const newPassword = 'a-much-better-password';
    secrets.add(newPassword);
    const res = await http(relay.http, 'PATCH', '/profile/password', { token: a.token, body: { oldPassword: a.password, newPassword } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body), ['token']);
    const fresh = res.body.token as string;
    secrets.add(fresh);
    assert.notEqual(fresh, a.token);
    const payload = payloadOf(fresh);
    assert.equal(payload.id, a.id);
    assert.equal(payload.sub, String(a.id));
    assert.equal(payload.email, a.email);

    assert.equal(await closedWithin(wsHeader, 3000), 4003);
    assert.equal(await closedWithin(wsProtocol, 3000), 4003);

    for (const old of [a.token, second.body.token]) {
      assertError(await http(relay.http, 'GET', '/profile', { token: old }), 401, 'UNAUTHORIZED');
      assertError(await http(relay.http, 'POST', '/auth/refresh', { token: old }), 401, 'UNAUTHORIZED');
      assert.equal(await upgradeStatus(old), 401);
    }
    const me = await http(relay.http, 'GET', '/profile', { token: fresh });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, a.id);
    assert.equal(await upgradeStatus(fresh), 101);

    assertError(await login(a.email, a.password), 401, 'UNAUTHORIZED');
    const relog = await login(a.email, newPassword);
    assert.equal(relog.status, 200);
    secrets.add(relog.body.token);

    // Someone else's socket is untouched.
    assert.equal(other.closeCode, undefined);
    const reply = await other.request('listLastMessage', { limit: 5, page: 1 });
    assert.equal(reply.success, true);
  });
});

describe('POST /auth/refresh', () => {
  test('200 {token} with a later expiry, and the new token works', async () => {
    const a = await account('Fresh');
    const old = payloadOf(a.token);
    await sleep(1100); // a second later, so the new expiry can differ
    const res = await http(relay.http, 'POST', '/auth/refresh', { token: a.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body), ['token']);
    const token = res.body.token as string;
    secrets.add(token);
    const p = payloadOf(token);
    assert.ok(p.exp > old.exp, `new exp ${p.exp} must be later than ${old.exp}`);
    assert.ok(Math.abs(p.exp - p.iat - 86400) <= 2);
    assert.equal(p.id, a.id);
    assert.equal(p.sub, String(a.id));
    assert.equal(p.email, a.email);
    assert.equal(p.firstName, 'Fresh');
    const me = await http(relay.http, 'GET', '/profile', { token });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, a.id);
    // Refreshing does not revoke the token it was given.
    assert.equal((await http(relay.http, 'GET', '/profile', { token: a.token })).status, 200);
  });

  test('without a valid token: 401', async () => {
    assertError(await http(relay.http, 'POST', '/auth/refresh'), 401, 'UNAUTHORIZED');
    assertError(await http(relay.http, 'POST', '/auth/refresh', { token: 'garbage' }), 401, 'UNAUTHORIZED');
  });
});

describe('DELETE /profile', () => {
  test('200; tokens and sockets stop, login fails, personal data is erased, the email can sign up again, /users forgets it', async () => {
    const a = await account('Leaving');
    const lastName = `Gone${randomBytes(3).toString('hex')}`;
    assert.equal((await http(relay.http, 'PATCH', '/profile', { token: a.token, body: { lastName } })).status, 200);
    const watcher = await account('Watcher');
    const socket = await connect(a.token);
    const watcherSocket = await connect(watcher.token);

    // Visible before.
    const listed = await http(relay.http, 'GET', `/users?search=${lastName}`, { token: watcher.token });
    assert.deepEqual(listed.body, [{ id: a.id, firstName: 'Leaving', lastName }]);

    const res = await http(relay.http, 'DELETE', '/profile', { token: a.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(typeof res.body, 'object');

    assert.equal(await closedWithin(socket, 3000), 4003);
    assert.equal(watcherSocket.closeCode, undefined);

    assertError(await http(relay.http, 'GET', '/profile', { token: a.token }), 401, 'UNAUTHORIZED');
    assertError(await http(relay.http, 'PATCH', '/profile', { token: a.token, body: { firstName: 'Back' } }), 401, 'UNAUTHORIZED');
    assertError(await http(relay.http, 'POST', '/auth/refresh', { token: a.token }), 401, 'UNAUTHORIZED');
    assertError(await http(relay.http, 'DELETE', '/profile', { token: a.token }), 401, 'UNAUTHORIZED');
    assert.equal(await upgradeStatus(a.token), 401);

    const wrong = await login(a.email, 'definitely-wrong');
    const gone = await login(a.email, a.password);
    assertError(gone, 401, 'UNAUTHORIZED');
    assert.deepEqual(gone.body, wrong.body, 'a deleted account must look like an unknown one');

    // Personal data erased in the database; the row stays as a tombstone.
    const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
    try {
      const rows = await sql`select email, password_hash, first_name, last_name, deleted_at from users where id = ${a.id}`;
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.email, null);
      assert.equal(rows[0]!.password_hash, null);
      assert.equal(rows[0]!.first_name, 'Deleted account');
      assert.equal(rows[0]!.last_name, null);
      assert.notEqual(rows[0]!.deleted_at, null);
    } finally {
      await sql.end();
    }

    // /users no longer lists it, by name, by email or in the full list.
    assert.deepEqual((await http(relay.http, 'GET', `/users?search=${lastName}`, { token: watcher.token })).body, []);
    assert.deepEqual((await http(relay.http, 'GET', `/users?search=${encodeURIComponent(a.email)}`, { token: watcher.token })).body, []);
    assert.deepEqual((await http(relay.http, 'GET', '/users?search=Deleted', { token: watcher.token })).body, []);
    const all = await http(relay.http, 'GET', '/users?limit=100', { token: watcher.token });
    assert.equal(all.status, 200);
    assert.ok(all.body.length > 1);
    assert.ok(!all.body.some((u: { id: number }) => u.id === a.id), 'the deleted account is still listed');

    // The same email signs up again: a new account.
    const again = await http(relay.http, 'POST', '/auth/sign-up', { body: { email: a.email.toUpperCase(), password: 'new-life-password', firstName: 'Again' } });
    secrets.add('new-life-password');
    assert.equal(again.status, 201, JSON.stringify(again.body));
    secrets.add(again.body.token);
    assert.notEqual(again.body.user.id, a.id);
    const relog = await login(a.email, 'new-life-password');
    assert.equal(relog.status, 200);
    assert.equal(relog.body.user.id, again.body.user.id);
    secrets.add(relog.body.token);
    // The old token does not come back to life with the new account.
    assertError(await http(relay.http, 'GET', '/profile', { token: a.token }), 401, 'UNAUTHORIZED');
  });

  test('without a valid token: 401', async () => {
    assertError(await http(relay.http, 'DELETE', '/profile'), 401, 'UNAUTHORIZED');
  });
});

test('the server logs hold no password, no token, no secret, and no error', async () => {
  await sleep(200);
  assertLogsClean(relay.logs, { secrets, atLeast: 20, expect: ['password changed', 'account deleted'] });
});

// Issue #2: POST /auth/sign-up and POST /auth/login over real HTTP (PROTOCOL.md, "HTTP API").
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { http, signUp, sleep, type HttpAnswer } from './helpers/client.js';
import { assertError, assertLogsClean } from './helpers/kit.js';

let db: TestDatabase;
let relay: RelayProcess;
/** Every password and token this file sends or receives: none may reach the logs. */
const secrets = new Set<string>();

before(async () => {
  db = await createTestDatabase('http_auth');
  // The auth rate limit is tested in http-misc; here it would only get in the way.
  relay = await startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000' });
});
after(async () => {
  await relay?.stop();
  await db?.drop();
});

const USER_KEYS = ['createdAt', 'email', 'firstName', 'id', 'lastName'];
const DAY = 24 * 60 * 60;


function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, any> } {
  const parts = token.split('.');
  assert.equal(parts.length, 3, `not a JWT: ${token}`);
  return {
    header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')),
  };
}

const uniqueEmail = (label = 'u'): string => `${label}.${randomBytes(5).toString('hex')}@example.com`;

async function signUpRaw(body: unknown): Promise<HttpAnswer> {
  const b = body as { password?: unknown };
  if (typeof b?.password === 'string') secrets.add(b.password);
  const res = await http(relay.http, 'POST', '/auth/sign-up', { body });
  if (typeof res.body?.token === 'string') secrets.add(res.body.token);
  return res;
}

/** A password, a hash or its column name must never appear in an answer. */
function assertNoSecretsIn(res: HttpAnswer, password: string): void {
  const text = JSON.stringify(res.body);
  assert.ok(!text.includes(password), 'answer contains the password');
  assert.ok(!/argon2/i.test(text), 'answer contains a password hash');
  assert.ok(!/password/i.test(text), 'answer contains a password field');
}

describe('POST /auth/sign-up', () => {
  test('201 with {user, token}: exact user shape, a JWT with id/sub/email/firstName and a 24 h lifetime', async () => {
    const email = uniqueEmail('ann');
    const password = 'correct horse battery';
    const startedAt = Math.floor(Date.now() / 1000);
    const res = await signUpRaw({ email, password, firstName: 'Ann', lastName: 'Lee' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body).sort(), ['token', 'user']);
    const { user, token } = res.body;
    assert.deepEqual(Object.keys(user).sort(), USER_KEYS);
    assert.ok(Number.isInteger(user.id) && user.id > 0, `id ${user.id}`);
    assert.equal(user.email, email);
    assert.equal(user.firstName, 'Ann');
    assert.equal(user.lastName, 'Lee');
    const created = Date.parse(user.createdAt);
    assert.ok(Number.isFinite(created), `createdAt ${user.createdAt}`);
    assert.ok(Math.abs(created - Date.now()) < 60_000, `createdAt ${user.createdAt} is not now`);
    assertNoSecretsIn(res, password);

    assert.equal(typeof token, 'string');
    const { header, payload } = decodeJwt(token);
    assert.equal(header.alg, 'HS256');
    assert.equal(typeof payload.id, 'number');
    assert.equal(payload.id, user.id);
    assert.equal(payload.sub, String(user.id));
    assert.equal(payload.email, email);
    assert.equal(payload.firstName, 'Ann');
    assert.equal(typeof payload.iat, 'number');
    assert.equal(typeof payload.exp, 'number');
    assert.ok(Math.abs(payload.exp - payload.iat - DAY) <= 2, `exp - iat = ${payload.exp - payload.iat}`);
    assert.ok(payload.iat >= startedAt - 2 && payload.iat <= Math.ceil(Date.now() / 1000) + 2, `iat ${payload.iat}`);
    assert.ok(!JSON.stringify(payload).includes(password));

    // The token is a working access token.
    const me = await http(relay.http, 'GET', '/profile', { token });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, user);
  });

  test('lastName is optional (null when left out) and may be null', async () => {
    const a = await signUpRaw({ email: uniqueEmail('nolast'), password: 'password123', firstName: 'NoLast' });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.equal(a.body.user.lastName, null);
    const b = await signUpRaw({ email: uniqueEmail('nulllast'), password: 'password123', firstName: 'NullLast', lastName: null });
    assert.equal(b.status, 201, JSON.stringify(b.body));
    assert.equal(b.body.user.lastName, null);
    assert.notEqual(a.body.user.id, b.body.user.id);
  });

  test('malformed JSON is 400 BAD_REQUEST', async () => {
    for (const raw of ['{bad', '{"email": "a@b.co", "password": "password123", "firstName": "A"', 'email=a@b.co', '{"a":1}}']) {
      const res = await http(relay.http, 'POST', '/auth/sign-up', { raw, headers: { 'content-type': 'application/json' } });
      assertError(res, 400, 'BAD_REQUEST');
    }
  });

  test('wrong types are 400 VALIDATION naming the field', async () => {
    const good = { email: uniqueEmail('types'), password: 'password123', firstName: 'Typed', lastName: 'Person' };
    const cases: [string, unknown][] = [
      ['email', 12345], ['email', null], ['email', ['a@b.co']],
      ['password', 123456789], ['password', true], ['password', { p: 'password123' }],
      ['firstName', 42], ['firstName', null], ['firstName', {}],
      ['lastName', 7], ['lastName', false],
    ];
    for (const [field, value] of cases) {
      const res = await signUpRaw({ ...good, [field]: value });
      assertError(res, 400, 'VALIDATION', new RegExp(field));
    }
    // None of those created the account.
    const ok = await signUpRaw(good);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  test('missing required fields are 400 VALIDATION naming the field', async () => {
    const good = { email: uniqueEmail('missing'), password: 'password123', firstName: 'Missing' };
    for (const field of ['email', 'password', 'firstName'] as const) {
      const body: Record<string, unknown> = { ...good };
      delete body[field];
      const res = await signUpRaw(body);
      assertError(res, 400, 'VALIDATION', new RegExp(field));
    }
  });

  test('empty names are refused', async () => {
    for (const firstName of ['', '   ']) {
      const res = await signUpRaw({ email: uniqueEmail('empty'), password: 'password123', firstName });
      assertError(res, 400, 'VALIDATION', /firstName/);
    }
    const long = await signUpRaw({ email: uniqueEmail('long'), password: 'password123', firstName: 'x'.repeat(101) });
    assertError(long, 400, 'VALIDATION', /firstName/);
  });

  test('passwords of 7 and 257 characters are refused; 8 and 256 are accepted', async () => {
    for (const length of [7, 257]) {
      const res = await signUpRaw({ email: uniqueEmail(`pw${length}`), password: 'p'.repeat(length), firstName: 'Pw' });
      assertError(res, 400, 'VALIDATION', /password/);
    }
    for (const length of [8, 256]) {
      const email = uniqueEmail(`pw${length}`);
      const password = 'q'.repeat(length - 1) + String(length % 10);
      const res = await signUpRaw({ email, password, firstName: 'Pw' });
      assert.equal(res.status, 201, `${length}: ${JSON.stringify(res.body)}`);
      assertNoSecretsIn(res, password);
      const login = await http(relay.http, 'POST', '/auth/login', { body: { email, password } });
      assert.equal(login.status, 200, `login with a ${length}-character password`);
      secrets.add(login.body.token);
    }
  });

  test('lengths count Unicode code points, not UTF-16 units', async () => {
    const emoji = '\u{1F600}'; // one character, two UTF-16 units
    for (const [count, status] of [[4, 400], [7, 400], [8, 201], [256, 201], [257, 400]] as const) {
      const email = uniqueEmail(`emoji${count}`);
      const password = emoji.repeat(count);
      const res = await signUpRaw({ email, password, firstName: 'Emoji' });
      assert.equal(res.status, status, `a password of ${count} emoji: ${JSON.stringify(res.body)}`);
      if (status === 400) assertError(res, 400, 'VALIDATION', /password/);
      else {
        const login = await http(relay.http, 'POST', '/auth/login', { body: { email, password } });
        assert.equal(login.status, 200);
        secrets.add(login.body.token);
      }
    }
    const hundred = await signUpRaw({ email: uniqueEmail('emojiname'), password: 'password123', firstName: emoji.repeat(100), lastName: emoji.repeat(100) });
    assert.equal(hundred.status, 201, `a name of 100 emoji: ${JSON.stringify(hundred.body)}`);
    assert.equal(hundred.body.user.firstName, emoji.repeat(100));
    const tooLong = await signUpRaw({ email: uniqueEmail('emojiname'), password: 'password123', firstName: emoji.repeat(101) });
    assertError(tooLong, 400, 'VALIDATION', /firstName/);
  });

  test('text PostgreSQL cannot store (NUL, lone surrogates) is a 400, never a 500', async () => {
    for (const [field, value] of [['firstName', 'A\u0000B'], ['lastName', '\u0000'], ['firstName', 'x\ud800'], ['lastName', '\udc00y']] as const) {
      const res = await signUpRaw({ email: uniqueEmail('nul'), password: 'password123', firstName: 'Nul', [field]: value });
      assertError(res, 400, 'VALIDATION', new RegExp(field));
    }
    const email = await signUpRaw({ email: 'nul\u0000@example.com', password: 'password123', firstName: 'Nul' });
    assertError(email, 400, 'VALIDATION', /email/);
    // Login with such an email matches no account: refused, without a 500.
    const login = await http(relay.http, 'POST', '/auth/login', { body: { email: 'nul\u0000@example.com', password: 'password123' } });
    assert.ok([400, 401].includes(login.status), `login with a NUL in the email: ${login.status} ${JSON.stringify(login.body)}`);
    assert.equal(login.body.error, true);
    // A NUL in a password is only hashed, never stored: accepted, and it matters.
    const nulEmail = uniqueEmail('nulpw');
    const pw = await signUpRaw({ email: nulEmail, password: 'pass\u0000word123', firstName: 'Nul' });
    assert.equal(pw.status, 201, JSON.stringify(pw.body));
    const ok = await http(relay.http, 'POST', '/auth/login', { body: { email: nulEmail, password: 'pass\u0000word123' } });
    assert.equal(ok.status, 200);
    secrets.add(ok.body.token);
    assertError(await http(relay.http, 'POST', '/auth/login', { body: { email: nulEmail, password: 'pass' } }), 401, 'UNAUTHORIZED');
  });

  test('invalid emails are 400 VALIDATION naming email', async () => {
    for (const email of ['', 'not-an-email', 'a@', '@example.com', 'a b@example.com', 'two@@example.com', `${'x'.repeat(250)}@example.com`]) {
      const res = await signUpRaw({ email, password: 'password123', firstName: 'Bad' });
      assertError(res, 400, 'VALIDATION', /email/);
    }
  });

  test('an email already taken, in any case, is 409 CONFLICT', async () => {
    const email = uniqueEmail('dup');
    const first = await signUpRaw({ email, password: 'password123', firstName: 'Dup' });
    assert.equal(first.status, 201);
    for (const again of [email, email.toUpperCase(), email.replace(/^d/, 'D')]) {
      const res = await signUpRaw({ email: again, password: 'another-password', firstName: 'Dup2' });
      assertError(res, 409, 'CONFLICT');
    }
    // The first account is untouched: its password still works, the other one does not.
    const ok = await http(relay.http, 'POST', '/auth/login', { body: { email, password: 'password123' } });
    assert.equal(ok.status, 200);
    secrets.add(ok.body.token);
    const bad = await http(relay.http, 'POST', '/auth/login', { body: { email, password: 'another-password' } });
    assertError(bad, 401, 'UNAUTHORIZED');
  });

  test('concurrent sign-ups with one email (in different cases): exactly one 201, the rest 409', async () => {
    const email = uniqueEmail('race');
    const variants = [email, email.toUpperCase(), email, `${email[0]!.toUpperCase()}${email.slice(1)}`, email.toUpperCase(), email];
    const answers = await Promise.all(variants.map((e, i) => signUpRaw({ email: e, password: `race-password-${i}`, firstName: 'Racer' })));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409], JSON.stringify(answers.map((a) => a.body)));
    for (const a of answers) if (a.status === 409) assertError(a, 409, 'CONFLICT');
  });

  test('a body over MAX_BODY_BYTES (16 KiB) is 413 PAYLOAD_TOO_LARGE; 16 KiB exactly is read', async () => {
    const sized = (bytes: number): string => {
      const head = JSON.stringify({ email: uniqueEmail('big'), password: 'password123', firstName: 'Big', pad: '' });
      return head.slice(0, -2) + 'x'.repeat(bytes - head.length) + '"}';
    };
    const exact = sized(16 * 1024);
    assert.equal(Buffer.byteLength(exact), 16 * 1024);
    const read = await http(relay.http, 'POST', '/auth/sign-up', { raw: exact, headers: { 'content-type': 'application/json' } });
    assert.equal(read.status, 201, `a 16 KiB body must be accepted: ${JSON.stringify(read.body)}`);
    secrets.add(read.body.token);

    for (const bytes of [16 * 1024 + 1, 20_000, 100_000]) {
      const res = await http(relay.http, 'POST', '/auth/sign-up', { raw: sized(bytes), headers: { 'content-type': 'application/json' } });
      assertError(res, 413, 'PAYLOAD_TOO_LARGE');
    }
    // The server is fine afterwards.
    const health = await http(relay.http, 'GET', '/health');
    assert.equal(health.status, 200);
  });

  /** POST with `transfer-encoding: chunked` and no content-length, in several writes. */
  function postChunked(path: string, body: string, chunkSize: number): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = httpRequest(`${relay.http}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { text += d; });
        res.on('end', () => {
          answered = true;
          let parsed: unknown = text;
          try { parsed = JSON.parse(text); } catch { /* keep text */ }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      // The server may close while we are still writing: that is fine once it has answered.
      req.on('error', (err) => { if (!answered) setTimeout(() => { if (!answered) reject(err); }, 500); });
      assert.equal(req.getHeader('content-length'), undefined);
      let offset = 0;
      const pump = (): void => {
        if (answered || req.destroyed) return;
        if (offset >= body.length) { req.end(); return; }
        req.write(body.slice(offset, offset + chunkSize));
        offset += chunkSize;
        setTimeout(pump, 2);
      };
      pump();
    });
  }

  test('a chunked body without content-length is read when small and refused with 413 when over the limit', async () => {
    const email = uniqueEmail('chunked');
    const small = JSON.stringify({ email, password: 'password123', firstName: 'Chunky' });
    const ok = await postChunked('/auth/sign-up', small, 16);
    assert.equal(ok.status, 201, `small chunked body: ${JSON.stringify(ok.body)}`);
    assert.equal(ok.body.user.email, email);
    secrets.add(ok.body.token);

    const big = JSON.stringify({ email: uniqueEmail('chunked'), password: 'password123', firstName: 'Chunky', pad: 'y'.repeat(40_000) });
    const refused = await postChunked('/auth/sign-up', big, 4096);
    assert.equal(refused.status, 413, JSON.stringify(refused.body));
    assert.deepEqual(refused.body, { error: true, message: refused.body.message, code: 'PAYLOAD_TOO_LARGE' });

    // One big chunk, too.
    const oneChunk = await postChunked('/auth/sign-up', big, 1 << 20);
    assert.equal(oneChunk.status, 413, JSON.stringify(oneChunk.body));
  });

  test('an empty body is 400 VALIDATION', async () => {
    const res = await http(relay.http, 'POST', '/auth/sign-up', { raw: '', headers: { 'content-type': 'application/json' } });
    assertError(res, 400, 'VALIDATION');
    const none = await http(relay.http, 'POST', '/auth/sign-up');
    assertError(none, 400, 'VALIDATION');
  });

  test('JSON that is not an object is a 400', async () => {
    for (const raw of ['null', '[]', '"a@b.co"', '42', 'true']) {
      const res = await http(relay.http, 'POST', '/auth/sign-up', { raw, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 400, `${raw}: ${res.status}`);
      assert.ok(['BAD_REQUEST', 'VALIDATION'].includes(res.body.code), `${raw}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, true);
    }
  });
});

describe('POST /auth/login', () => {
  test('200 {message: "User is authorized", token, user} with the account as signed up', async () => {
    const email = uniqueEmail('login');
    const password = 'login-password-1';
    const signed = await signUpRaw({ email, password, firstName: 'Logan', lastName: 'Inn' });
    assert.equal(signed.status, 201);
    const res = await http(relay.http, 'POST', '/auth/login', { body: { email, password } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body).sort(), ['message', 'token', 'user']);
    assert.equal(res.body.message, 'User is authorized');
    assert.deepEqual(res.body.user, signed.body.user);
    assertNoSecretsIn(res, password);
    secrets.add(res.body.token);
    const { payload } = decodeJwt(res.body.token);
    assert.equal(payload.id, signed.body.user.id);
    assert.equal(payload.sub, String(signed.body.user.id));
    assert.equal(payload.email, email);
    assert.equal(payload.firstName, 'Logan');
    assert.ok(Math.abs(payload.exp - payload.iat - DAY) <= 2);
    const me = await http(relay.http, 'GET', '/profile', { token: res.body.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, signed.body.user.id);
  });

  test('the email is compared without regard to case', async () => {
    const email = `Mixed.Case.${randomBytes(4).toString('hex')}@Example.COM`;
    const signed = await signUpRaw({ email, password: 'password123', firstName: 'Mixed' });
    assert.equal(signed.status, 201);
    for (const variant of [email.toLowerCase(), email.toUpperCase(), email]) {
      const res = await http(relay.http, 'POST', '/auth/login', { body: { email: variant, password: 'password123' } });
      assert.equal(res.status, 200, `${variant}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.user.id, signed.body.user.id);
      secrets.add(res.body.token);
    }
  });

  test('wrong password and unknown email are both 401 with the identical answer', async () => {
    const a = await signUp(relay.http, 'Enum');
    secrets.add(a.password).add(a.token);
    const wrongPassword = await http(relay.http, 'POST', '/auth/login', { body: { email: a.email, password: 'not-the-password' } });
    const unknownEmail = await http(relay.http, 'POST', '/auth/login', { body: { email: uniqueEmail('nobody'), password: a.password } });
    const wrongCaseOfPassword = await http(relay.http, 'POST', '/auth/login', { body: { email: a.email, password: a.password.toUpperCase() } });
    assertError(wrongPassword, 401, 'UNAUTHORIZED');
    assertError(unknownEmail, 401, 'UNAUTHORIZED');
    assertError(wrongCaseOfPassword, 401, 'UNAUTHORIZED');
    assert.deepEqual(unknownEmail.body, wrongPassword.body);
    assert.deepEqual(wrongCaseOfPassword.body, wrongPassword.body);
  });

  test('bad input: malformed JSON 400 BAD_REQUEST, missing or mistyped fields 400 VALIDATION', async () => {
    const bad = await http(relay.http, 'POST', '/auth/login', { raw: '{"email":', headers: { 'content-type': 'application/json' } });
    assertError(bad, 400, 'BAD_REQUEST');
    assertError(await http(relay.http, 'POST', '/auth/login', { body: { email: 'a@example.com' } }), 400, 'VALIDATION', /password/);
    assertError(await http(relay.http, 'POST', '/auth/login', { body: { password: 'password123' } }), 400, 'VALIDATION', /email/);
    assertError(await http(relay.http, 'POST', '/auth/login', { body: { email: 5, password: 'password123' } }), 400, 'VALIDATION', /email/);
    assertError(await http(relay.http, 'POST', '/auth/login', { body: { email: 'a@example.com', password: 12345678 } }), 400, 'VALIDATION', /password/);
    assertError(await http(relay.http, 'POST', '/auth/login', { raw: '' }), 400, 'VALIDATION');
  });
});

test('the server logs hold no password, no token, no secret, and no error', async () => {
  await sleep(200);
  assertLogsClean(relay.logs, { secrets, atLeast: 20, expect: ['account created'] });
});

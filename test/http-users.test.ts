// Issue #2: GET /users?search=&limit=&page= over real HTTP (PROTOCOL.md, "HTTP API").
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { http, type HttpAnswer } from './helpers/client.js';
import { assertError, assertLogsClean } from './helpers/kit.js';

let db: TestDatabase;
let relay: RelayProcess;

interface Made { id: number; email: string; firstName: string; lastName: string | null; token: string; password: string }
const people: Record<string, Made> = {};
let me: Made;

async function make(key: string, firstName: string, lastName: string | null): Promise<Made> {
  const email = `${key.toLowerCase()}.${randomBytes(4).toString('hex')}@example.com`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const res = await http(relay.http, 'POST', '/auth/sign-up', { body: { email, password, firstName, lastName } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const made = { id: res.body.user.id, email, firstName, lastName, token: res.body.token, password };
  people[key] = made;
  return made;
}

before(async () => {
  db = await createTestDatabase('http_users');
  relay = await startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000' });
  me = await make('me', 'Searcher', null);
  await Promise.all([
    make('zelda', 'Zelda', 'Quinn'),
    make('zeller', 'Bob', 'Zeller'),
    make('zeb', 'Zeb', 'Alpha'),
    make('lower', 'zelia', null),
    make('umlaut', 'Ärger', 'Öhlmann'),
    make('percent', 'Per%cent', 'Under_score'),
    ...Array.from({ length: 5 }, (_, i) => make(`pager${i}`, 'Pager', `Number${i}`)),
    ...Array.from({ length: 17 }, (_, i) => make(`filler${i}`, 'Filler', null)),
  ]);
});
after(async () => {
  await relay?.stop();
  await db?.drop();
});


async function users(query: string, token = me.token): Promise<HttpAnswer<{ id: number; firstName: string; lastName: string | null }[]>> {
  return http(relay.http, 'GET', `/users${query}`, { token });
}

const ids = (rows: { id: number }[]): number[] => rows.map((r) => r.id).sort((a, b) => a - b);
const idsOf = (...keys: string[]): number[] => keys.map((k) => people[k]!.id).sort((a, b) => a - b);

describe('GET /users', () => {
  test('a name prefix matches first or last names, case-insensitively, and answers [{id, firstName, lastName}]', async () => {
    const res = await users('?search=zel');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(Array.isArray(res.body));
    assert.deepEqual(ids(res.body), idsOf('zelda', 'zeller', 'lower'));
    const zelda = res.body.find((u) => u.id === people.zelda!.id);
    assert.deepEqual(zelda, { id: people.zelda!.id, firstName: 'Zelda', lastName: 'Quinn' });
    for (const row of res.body) assert.deepEqual(Object.keys(row).sort(), ['firstName', 'id', 'lastName']);

    assert.deepEqual(ids((await users('?search=ZEL')).body), idsOf('zelda', 'zeller', 'lower'));
    assert.deepEqual(ids((await users('?search=Zelda')).body), idsOf('zelda'));
    assert.deepEqual(ids((await users('?search=qui')).body), idsOf('zelda'));
    assert.deepEqual(ids((await users('?search=alp')).body), idsOf('zeb'));
    // Case-insensitive beyond ASCII too.
    assert.deepEqual(ids((await users(`?search=${encodeURIComponent('är')}`)).body), idsOf('umlaut'));
    assert.deepEqual(ids((await users(`?search=${encodeURIComponent('ÖHL')}`)).body), idsOf('umlaut'));
    // A prefix, not a substring.
    assert.deepEqual((await users('?search=elda')).body, []);
    assert.deepEqual((await users('?search=uinn')).body, []);
  });

  test('an exact email finds its account (in any case); part of an email finds nothing', async () => {
    const z = people.zelda!;
    assert.deepEqual((await users(`?search=${encodeURIComponent(z.email)}`)).body, [{ id: z.id, firstName: 'Zelda', lastName: 'Quinn' }]);
    assert.deepEqual((await users(`?search=${encodeURIComponent(z.email.toUpperCase())}`)).body, [{ id: z.id, firstName: 'Zelda', lastName: 'Quinn' }]);
    assert.deepEqual((await users(`?search=${encodeURIComponent(z.email.slice(0, -1))}`)).body, []);
    assert.deepEqual((await users('?search=example.com')).body, []);
    assert.deepEqual((await users(`?search=${encodeURIComponent(z.email.split('@')[1]!)}`)).body, []);
  });

  test('LIKE wildcards in the search are taken literally', async () => {
    assert.deepEqual((await users('?search=%25')).body, [], '% must not match everything');
    assert.deepEqual((await users('?search=_')).body, [], '_ must not match any one character');
    assert.deepEqual((await users('?search=Z_l')).body, []);
    assert.deepEqual(ids((await users('?search=per%25')).body), idsOf('percent'));
    assert.deepEqual(ids((await users('?search=under_')).body), idsOf('percent'));
    assert.deepEqual((await users('?search=%5C')).body, [], 'a backslash is literal too');
  });

  test('a search PostgreSQL cannot compare (NUL) is a 400, not a 500; over 254 characters is a 400', async () => {
    assertError(await users('?search=%00'), 400, 'VALIDATION', /search/);
    assertError(await users('?search=zel%00'), 400, 'VALIDATION', /search/);
    assertError(await users(`?search=${'z'.repeat(255)}`), 400, 'VALIDATION', /search/);
  });

  test('paging: limit and page walk through the matches without overlap', async () => {
    const pages: number[][] = [];
    for (let page = 1; page <= 4; page++) {
      const res = await users(`?search=pager&limit=2&page=${page}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      pages.push(res.body.map((r) => r.id));
    }
    assert.deepEqual(pages.map((p) => p.length), [2, 2, 1, 0]);
    const seen = pages.flat();
    assert.equal(new Set(seen).size, seen.length, 'pages overlap');
    assert.deepEqual([...seen].sort((a, b) => a - b), idsOf('pager0', 'pager1', 'pager2', 'pager3', 'pager4'));
  });

  test('without a search: active accounts, 20 by default, up to limit', async () => {
    const total = Object.keys(people).length;
    assert.ok(total > 20);
    const first = await users('');
    assert.equal(first.status, 200);
    assert.equal(first.body.length, 20, 'default limit is 20');
    const all = await users('?limit=100');
    assert.equal(all.body.length, total);
    assert.deepEqual(ids(all.body), ids(Object.values(people)));
    const empty = await users('?search=&limit=5&page=2');
    assert.equal(empty.body.length, 5);
    assert.deepEqual(empty.body, all.body.slice(5, 10), 'the list must be in a stable order');
  });

  test('limit or page out of range, or not integers, are 400 VALIDATION', async () => {
    for (const limit of ['0', '101', '-1', 'abc', '1.5', '1e2']) {
      assertError(await users(`?limit=${limit}`), 400, 'VALIDATION', /limit/);
    }
    for (const page of ['0', '-3', 'x', '2.5']) {
      assertError(await users(`?page=${page}`), 400, 'VALIDATION', /page/);
    }
    assert.equal((await users('?limit=1')).body.length, 1);
    assert.equal((await users('?limit=100')).status, 200);
    assert.deepEqual((await users('?search=pager&limit=5&page=1000')).body, []);
  });

  test('never returns emails or password hashes', async () => {
    for (const query of ['', '?limit=100', '?search=zel', `?search=${encodeURIComponent(people.zeb!.email)}`]) {
      const res = await http(relay.http, 'GET', `/users${query}`, { token: me.token });
      const text = JSON.stringify(res.body);
      assert.ok(res.body.length > 0, query);
      assert.ok(!text.includes('@'), `${query}: an email in ${text.slice(0, 200)}`);
      assert.ok(!/argon2|password|hash|email/i.test(text), `${query}: ${text.slice(0, 200)}`);
      for (const p of Object.values(people)) assert.ok(!text.includes(p.password));
    }
  });

  test('requires a valid token', async () => {
    assertError(await http(relay.http, 'GET', '/users?search=zel'), 401, 'UNAUTHORIZED');
    assertError(await users('?search=zel', 'garbage'), 401, 'UNAUTHORIZED');
  });
});

test('the server logs hold no password, no token, and no error', async () => {
  const made = Object.values(people);
  assertLogsClean(relay.logs, { secrets: made.flatMap((p) => [p.password, p.token]), atLeast: 42, expect: ['account created'] });
});

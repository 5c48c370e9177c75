// Issue #2: health, readiness, API docs, unknown routes, security headers, CORS, the auth rate limit,
// concurrent migrations and bad configuration, over real processes (PROTOCOL.md, "HTTP API").
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, TEST_SECRET, type RelayProcess } from './helpers/server.js';
import { http, signUp, sleep, Client, type HttpAnswer } from './helpers/client.js';
import { assertError, assertLogsClean } from './helpers/kit.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const MIGRATE = path.join(ROOT, 'dist/src/migrate.js');
const MIGRATIONS = readdirSync(path.join(ROOT, 'sql')).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();

let db: TestDatabase;
let relay: RelayProcess;
const secrets = new Set<string>();
/** Extra databases and processes some tests make; cleaned up in `after` whatever happens. */
const extraDbs: TestDatabase[] = [];
const extraRelays: RelayProcess[] = [];
const proxies: { cut(): Promise<void> }[] = [];

before(async () => {
  db = await createTestDatabase('http_misc');
  relay = await startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000' });
});
after(async () => {
  await Promise.all([relay?.stop(), ...extraRelays.map((r) => r.stop())]);
  await Promise.all(proxies.map((p) => p.cut()));
  await Promise.all([db?.drop(), ...extraDbs.map((d) => d.drop())]);
});


describe('health and readiness', () => {
  test('GET /health is 200', async () => {
    const res = await http(relay.http, 'GET', '/health');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
  });

  test('GET /ready is 200 with database: true', async () => {
    const res = await http(relay.http, 'GET', '/ready');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.database, true);
    assert.equal(res.body.status, 'ready');
  });
});

describe('API docs', () => {
  test('GET /api/ serves the Swagger UI page, whose initializer points at ./openapi.json', async () => {
    const page = await fetch(`${relay.http}/api/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /<div id="swagger-ui">/);
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(sources.includes('./swagger-initializer.js'), `index.html does not load ./swagger-initializer.js: ${sources.join(', ')}`);
    // Everything the page loads is served, relative to /api/.
    for (const src of sources) {
      const url = new URL(src, `${relay.http}/api/`);
      const asset = await fetch(url);
      assert.equal(asset.status, 200, `${url.pathname}: ${asset.status}`);
      await asset.arrayBuffer();
    }
    const init = await fetch(new URL('./swagger-initializer.js', `${relay.http}/api/`));
    assert.match(init.headers.get('content-type') ?? '', /javascript/);
    const script = await init.text();
    const specUrl = /url:\s*['"]([^'"]+)['"]/.exec(script)?.[1];
    assert.equal(specUrl, './openapi.json', `the initializer points at ${specUrl}`);
    assert.ok(!/petstore/i.test(script), 'the initializer still points at the petstore demo');
    const spec = await fetch(new URL(specUrl!, `${relay.http}/api/swagger-initializer.js`));
    assert.equal(new URL(spec.url).pathname, '/api/openapi.json');
    assert.equal(spec.status, 200);
  });

  test('GET /api redirects to /api/ (relative asset paths need the slash)', async () => {
    const res = await fetch(`${relay.http}/api`, { redirect: 'manual' });
    assert.equal(res.status, 301);
    assert.equal(res.headers.get('location'), '/api/');
  });

  test('files of the swagger-ui-dist package other than the page assets are not served', async () => {
    for (const name of ['package.json', 'README.md', '..%2Fpackage.json', 'swagger-ui.js.map']) {
      const res = await http(relay.http, 'GET', `/api/${name}`);
      assert.equal(res.status, 404, `/api/${name}: ${res.status}`);
      assert.equal(res.body.code, 'NOT_FOUND');
    }
  });

  test('GET /api/openapi.json is OpenAPI 3.1 covering every route of the HTTP table and the WebSocket messages', async () => {
    const res = await http(relay.http, 'GET', '/api/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const doc = res.body;
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.equal(typeof doc.info?.title, 'string');
    const routes: [string, string][] = [
      ['post', '/auth/sign-up'], ['post', '/auth/login'], ['get', '/profile'], ['patch', '/profile'],
      ['patch', '/profile/password'], ['post', '/auth/refresh'], ['delete', '/profile'], ['get', '/users'],
      ['get', '/api/'], ['get', '/api/openapi.json'], ['get', '/health'], ['get', '/ready'],
      ['get', '/push/key'], ['post', '/push/subscriptions'], ['delete', '/push/subscriptions'],
      ['post', '/files'], ['get', '/files/{id}'], ['get', '/files/{id}/thumbnail'],
    ];
    for (const [method, route] of routes) {
      assert.ok(doc.paths?.[route]?.[method], `${method.toUpperCase()} ${route} is missing from the OpenAPI document`);
      assert.ok(Object.keys(doc.paths[route][method].responses ?? {}).length > 0, `${method} ${route} has no responses`);
    }
    const signUpSchema = doc.paths['/auth/sign-up'].post.requestBody.content['application/json'].schema;
    for (const field of ['email', 'password', 'firstName', 'lastName']) assert.ok(signUpSchema.properties?.[field], `sign-up schema lacks ${field}`);
    assert.deepEqual([...signUpSchema.required].sort(), ['email', 'firstName', 'password']);
    assert.equal(signUpSchema.properties.password.minLength, 8);
    assert.equal(signUpSchema.properties.password.maxLength, 256);
    const loginSchema = doc.paths['/auth/login'].post.requestBody.content['application/json'].schema;
    assert.deepEqual([...loginSchema.required].sort(), ['email', 'password']);
    const passwordSchema = doc.paths['/profile/password'].patch.requestBody.content['application/json'].schema;
    assert.deepEqual([...passwordSchema.required].sort(), ['newPassword', 'oldPassword']);
    assert.deepEqual([...doc.components.schemas.File.required].sort(), ['contentType', 'createdAt', 'height', 'id', 'name', 'size', 'thumbnailUrl', 'url', 'width']);
    assert.ok(doc.components.schemas.ws_privateMessage.properties.params.properties.attachments, 'sends document attachments');
    // Protected routes say they need the bearer token.
    assert.equal(doc.components?.securitySchemes?.bearer?.scheme, 'bearer');
    for (const [method, route] of [['get', '/profile'], ['get', '/users'], ['post', '/auth/refresh']] as const) {
      assert.ok(doc.paths[route][method].security?.length, `${method} ${route} has no security`);
    }
    // The WebSocket messages are described too.
    const ws = doc['x-websocket-messages'];
    for (const type of ['listLastMessage', 'getlatestMessageDialog', 'getlatestMessageGroup', 'newGroup', 'addUserInGroup', 'leaveGroup', 'messageInGroup', 'privateMessage',
      'typing', 'getPresence', 'getGroup', 'getGroupMembers', 'renameGroup', 'removeUserFromGroup', 'setMemberRole',
      'markRead', 'editMessage', 'deleteMessage', 'muteConversation', 'unmuteConversation']) {
      assert.ok(ws?.[type], `WebSocket message ${type} is not described`);
    }
    // v1.1: the new types' replies and pushes.
    for (const type of ['typing', 'getPresence', 'getGroup', 'getGroupMembers', 'renameGroup', 'removeUserFromGroup', 'setMemberRole', 'markRead', 'editMessage', 'deleteMessage']) {
      assert.ok(doc['x-websocket-replies']?.[type], `reply of ${type} is not described`);
    }
    for (const type of ['typing', 'presence', 'renameGroup', 'removeUserFromGroup', 'setMemberRole', 'markRead', 'editMessage', 'deleteMessage',
      'muteConversation', 'unmuteConversation']) {
      assert.ok(doc['x-websocket-pushes']?.[type]?.properties, `push ${type} is not described`);
    }
    // v1.2: what the notification webhook receives, signed.
    const hook = doc.webhooks?.notification?.post;
    assert.ok(hook?.parameters?.some((p: { name: string }) => p.name === 'X-Relay-Signature'), 'the webhook\'s signature header is described');
    assert.ok(hook.requestBody.content['application/json'].schema.properties.userId);
    assert.deepEqual(ws.setMemberRole.properties.params.properties.role.enum, ['admin', 'member']);
    assert.equal(ws.getPresence.properties.params.properties.userIds.maxItems, 100);
    assert.deepEqual(Object.keys(ws.markRead.properties.params.properties).sort(), ['groupId', 'messageId', 'receiverId']);
    assert.deepEqual(Object.keys(ws.editMessage.properties.params.properties).sort(), ['content', 'messageId']);
    assert.deepEqual(Object.keys(ws.deleteMessage.properties.params.properties), ['messageId']);
    assert.ok(doc['x-websocket-replies'].markRead.properties.unreadCount);
    assert.ok(ws.privateMessage.properties.params.properties.receiverId, 'privateMessage params lack receiverId');
  });
});

describe('unknown routes', () => {
  test('404 NOT_FOUND as JSON', async () => {
    for (const [method, route] of [['GET', '/nope'], ['POST', '/auth/nope'], ['GET', '/profile/nope'], ['DELETE', '/users'], ['GET', '/']]) {
      const res = await http(relay.http, method!, route!);
      assertError(res, 404, 'NOT_FOUND');
    }
  });
});

describe('headers', () => {
  const SECURITY: [string, RegExp][] = [
    ['x-content-type-options', /^nosniff$/],
    ['x-frame-options', /^DENY$/i],
    ['referrer-policy', /^no-referrer$/],
    ['content-security-policy', /frame-ancestors 'none'/],
    ['access-control-allow-origin', /^\*$/],
  ];

  test('security headers are on every kind of answer', async () => {
    const answers: [string, Promise<HttpAnswer>][] = [
      ['200 /health', http(relay.http, 'GET', '/health')],
      ['200 /api/openapi.json', http(relay.http, 'GET', '/api/openapi.json')],
      ['200 /api/', http(relay.http, 'GET', '/api/')],
      ['400', http(relay.http, 'POST', '/auth/sign-up', { raw: '{', headers: { 'content-type': 'application/json' } })],
      ['401', http(relay.http, 'GET', '/profile')],
      ['404', http(relay.http, 'GET', '/nope')],
      ['413', http(relay.http, 'POST', '/auth/login', { raw: 'x'.repeat(20_000), headers: { 'content-type': 'application/json' } })],
    ];
    for (const [what, pending] of answers) {
      const res = await pending;
      for (const [name, value] of SECURITY) assert.match(res.headers.get(name) ?? '(missing)', value, `${what}: ${name}`);
    }
    // The API itself allows no active content at all.
    const api = await http(relay.http, 'GET', '/health');
    assert.match(api.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });

  test('CORS preflight: OPTIONS is 204 with Access-Control-Allow-* headers', async () => {
    for (const route of ['/auth/sign-up', '/profile', '/profile/password', '/users']) {
      const res = await fetch(`${relay.http}${route}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization, content-type' },
      });
      assert.equal(res.status, 204, route);
      assert.equal(await res.text(), '');
      const origin = res.headers.get('access-control-allow-origin');
      assert.ok(origin === '*' || origin === 'https://app.example', `${route}: allow-origin ${origin}`);
      const methods = (res.headers.get('access-control-allow-methods') ?? '').toUpperCase();
      for (const m of ['GET', 'POST', 'PATCH', 'DELETE']) assert.ok(methods.includes(m), `${route}: ${m} not allowed (${methods})`);
      const headers = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const h of ['authorization', 'content-type']) assert.ok(headers.includes(h), `${route}: ${h} not allowed (${headers})`);
    }
  });

  test('a cross-origin answer exposes Retry-After', async () => {
    const res = await http(relay.http, 'GET', '/health', { headers: { origin: 'https://app.example' } });
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /retry-after/i);
  });
});

describe('auth rate limit', () => {
  test('past AUTH_RATE_PER_MINUTE attempts for one email: 429 RATE_LIMITED with Retry-After', async () => {
    const limited = await startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '2' });
    extraRelays.push(limited);
    const email = `limited.${Date.now()}@example.com`;
    const attempt = () => http(limited.http, 'POST', '/auth/login', { body: { email, password: 'wrong-password' } });
    assertError(await attempt(), 401, 'UNAUTHORIZED');
    assertError(await attempt(), 401, 'UNAUTHORIZED');
    const third = await attempt();
    assertError(third, 429, 'RATE_LIMITED');
    const retryAfter = Number(third.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${third.headers.get('retry-after')}`);
    // Another email from the same address is still let through.
    const other = await http(limited.http, 'POST', '/auth/login', { body: { email: `other.${email}`, password: 'wrong-password' } });
    assertError(other, 401, 'UNAUTHORIZED');
    await limited.stop();
  });
});

/** A TCP proxy to PostgreSQL that a test can cut and restore, to play a database outage. */
async function startProxy(target: URL, port = 0): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const drop = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    for (const s of [client, upstream]) { s.on('error', drop); s.on('close', drop); }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  const proxy = {
    port: (server.address() as AddressInfo).port,
    cut: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (server.listening) server.close(() => resolve());
      else resolve();
    }),
  };
  proxies.push(proxy);
  return proxy;
}

describe('database outage', () => {
  test('/ready and the routes answer 503 while the database is unreachable, and recover when it is back', async () => {
    const target = new URL(db.url);
    let proxy = await startProxy(target);
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const r = await startRelay({ DATABASE_URL: viaProxy.toString(), AUTH_RATE_PER_MINUTE: '100000' });
    extraRelays.push(r);
    const acc = await signUp(r.http, 'Outage');
    secrets.add(acc.password).add(acc.token);
    assert.equal((await http(r.http, 'GET', '/ready')).status, 200);

    await proxy.cut();
    try {
      const ready = await http(r.http, 'GET', '/ready');
      assert.equal(ready.status, 503, JSON.stringify(ready.body));
      assert.equal(ready.body.database, false);
      assert.equal((await http(r.http, 'GET', '/health')).status, 200, 'liveness does not depend on the database');
      assertError(await http(r.http, 'GET', '/profile', { token: acc.token }), 503, 'UNAVAILABLE');
      assertError(await http(r.http, 'POST', '/auth/login', { body: { email: acc.email, password: acc.password } }), 503, 'UNAVAILABLE');
      const upgrade = await Client.connect(r.ws, acc.token).then((c) => { void c.close(); return 101; }, (err: { status?: number }) => err.status);
      assert.equal(upgrade, 503);
    } finally {
      proxy = await startProxy(target, proxy.port);
    }
    // Back: the pool reconnects by itself.
    let ready: HttpAnswer | undefined;
    for (let i = 0; i < 50; i++) {
      ready = await http(r.http, 'GET', '/ready');
      if (ready.status === 200) break;
      await sleep(100);
    }
    assert.equal(ready?.status, 200, JSON.stringify(ready?.body));
    const me = await http(r.http, 'GET', '/profile', { token: acc.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, acc.id);
    await r.stop();
    await proxy.cut();
  });
});

describe('migrations', () => {
  test('two servers starting together on a fresh database both come up; each migration is applied exactly once', async () => {
    const fresh = await createTestDatabase('http_migrate');
    extraDbs.push(fresh);
    const started = await Promise.allSettled([startRelay({ DATABASE_URL: fresh.url }), startRelay({ DATABASE_URL: fresh.url })]);
    for (const s of started) if (s.status === 'fulfilled') extraRelays.push(s.value);
    for (const s of started) assert.equal(s.status, 'fulfilled', s.status === 'rejected' ? String(s.reason) : '');
    const [a, b] = started.map((s) => (s as PromiseFulfilledResult<RelayProcess>).value) as [RelayProcess, RelayProcess];

    for (const r of [a, b]) {
      const ready = await http(r.http, 'GET', '/ready');
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
    }
    // Both serve the same schema: an account made on one logs in on the other.
    const acc = await signUp(a.http, 'Migrated');
    secrets.add(acc.password).add(acc.token);
    const login = await http(b.http, 'POST', '/auth/login', { body: { email: acc.email, password: acc.password } });
    assert.equal(login.status, 200);
    secrets.add(login.body.token);

    const applied = [...a.logs, ...b.logs].filter((l) => l.msg === 'migration applied').map((l) => l.migration).sort();
    assert.deepEqual(applied, MIGRATIONS, 'each migration must be applied by exactly one of the two servers');

    const sql = postgres(fresh.url, { max: 1, onnotice: () => undefined });
    try {
      const rows = await sql<{ name: string; n: number }[]>`select name, count(*)::int as n from schema_migrations group by name order by name`;
      assert.deepEqual(rows.map((r) => r.name), MIGRATIONS);
      for (const r of rows) assert.equal(r.n, 1, r.name);
    } finally {
      await sql.end();
    }

    // `npm run migrate` (dist/src/migrate.js) on the migrated database: nothing to do, exit 0.
    const run = await runNode(MIGRATE, { DATABASE_URL: fresh.url });
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.some((l) => l.msg === 'schema up to date'), run.stdout);
    assert.ok(!lines.some((l) => l.msg === 'migration applied'), run.stdout);

    await Promise.all([a.stop(), b.stop()]);
  });
});

/** Runs `node file` with a clean environment; kills it after `timeoutMs`. */
function runNode(file: string, env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [file], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', JWT_SECRET: TEST_SECRET, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe('bad configuration', () => {
  for (const [name, value] of [['PORT', 'abc'], ['JWT_TTL', 'soon'], ['PORT', '70000'], ['MAX_BODY_BYTES', '0']] as const) {
    test(`${name}=${value}: the server exits with code 2 and names ${name} on stderr`, async () => {
      const run = await runNode(MAIN, { DATABASE_URL: db.url, PORT: '0', [name]: value }, 10_000);
      assert.equal(run.code, 2, `exit code ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`\\b${name}\\b`));
      assert.ok(!run.stdout.includes('"listening"'), 'it started anyway');
      assert.ok(!run.stderr.includes(TEST_SECRET), 'the error message shows JWT_SECRET');
    });
  }
});

test('the server logs hold no password, no token, no secret, and no error', async () => {
  await sleep(200);
  const logs = [relay, ...extraRelays].flatMap((r) => r.logs);
  assert.ok(logs.filter((l) => l.msg === 'listening').length >= 4, 'the logs were not captured');
  assertLogsClean(logs, { secrets, atLeast: 2, forbidden: ['wrong-password'] });
});

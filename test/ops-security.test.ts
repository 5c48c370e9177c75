// Issue #6, security review: no secret in logs or errors, no user enumeration at login, argon2id at
// OWASP's parameters, every SQL statement parameterised, CORS and security headers on HTTP answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import ts from 'typescript';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, TEST_SECRET, type RelayProcess } from './helpers/server.js';
import { Client, http, signUp } from './helpers/client.js';
import { hashPassword } from '../src/auth/passwords.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const MAIN = join(ROOT, 'dist/src/main.js');

let db: TestDatabase;
let relay: RelayProcess;
before(async () => {
  db = await createTestDatabase('ops_security');
  relay = await startRelay({ DATABASE_URL: db.url, LOG_LEVEL: 'trace', AUTH_RATE_PER_MINUTE: '10000' });
});
after(async () => {
  await relay?.stop();
  await db?.drop();
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('no password, token, hash or JWT secret appears in logs or in error answers', async () => {
  const secrets: string[] = [TEST_SECRET];
  const a = await signUp(relay.http, 'Secretive', 'first password 1');
  secrets.push(a.password, a.token);
  const answers: string[] = [];
  const keep = (x: { body: unknown }): void => { answers.push(JSON.stringify(x.body)); };

  const login = await http(relay.http, 'POST', '/auth/login', { body: { email: a.email, password: a.password } });
  secrets.push(login.body.token);
  keep(await http(relay.http, 'POST', '/auth/login', { body: { email: a.email, password: 'wrong password 2' } }));
  secrets.push('wrong password 2');
  keep(await http(relay.http, 'POST', '/auth/login', { body: { email: 'nobody@example.com', password: 'unknown user pw 3' } }));
  secrets.push('unknown user pw 3');
  keep(await http(relay.http, 'POST', '/auth/login', { raw: `{"email":"${a.email}","password":"broken json pw 4"`, headers: { 'content-type': 'application/json' } }));
  secrets.push('broken json pw 4');
  keep(await http(relay.http, 'GET', '/profile', { token: `${a.token}x` }));
  await (await Client.connect(relay.ws, a.token)).close();
  await (await Client.connect(relay.ws, login.body.token, 'protocol')).close();
  await assert.rejects(Client.connect(relay.ws, `${a.token.slice(0, -3)}abc`), (err: { status?: number }) => err.status === 401);
  const changed = await http(relay.http, 'PATCH', '/profile/password', { token: a.token, body: { oldPassword: a.password, newPassword: 'second password 5' } });
  assert.equal(changed.status, 200);
  secrets.push('second password 5', changed.body.token);
  keep(await http(relay.http, 'PATCH', '/profile/password', { token: changed.body.token, body: { oldPassword: 'not it at all 6', newPassword: 'third password 7' } }));
  secrets.push('not it at all 6', 'third password 7');
  keep(await http(relay.http, 'GET', '/profile', { token: a.token })); // revoked by the change
  const refreshed = await http(relay.http, 'POST', '/auth/refresh', { token: changed.body.token });
  secrets.push(refreshed.body.token);

  const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  const [row] = await sql<{ hash: string }[]>`select password_hash as hash from users where id = ${a.id}`;
  await sql.end();
  assert.match(row!.hash, /^\$argon2id\$/);
  secrets.push(row!.hash, row!.hash.split('$').at(-1)!);

  const logs = relay.logs.map((l) => JSON.stringify(l)).join('\n');
  assert.ok(relay.logs.some((l) => l.msg === 'password changed') && relay.logs.some((l) => l.msg === 'account created'), 'the events were logged');
  for (const secret of secrets) {
    assert.ok(!logs.includes(secret), `a secret is in the logs: ${secret.slice(0, 12)}…`);
    for (const answer of answers) assert.ok(!answer.includes(secret), `a secret is in an error answer: ${answer}`);
  }
  for (const answer of answers) assert.doesNotMatch(answer, /\bselect\b|\binsert\b|\n\s+at |node_modules/i);
});

test('configuration errors and a failed start do not print the database password or the JWT secret', async () => {
  const run = (env: Record<string, string>): Promise<{ code: number | null; out: string }> => new Promise((done) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => done({ code, out }));
  });
  const shortSecret = await run({ JWT_SECRET: 'hunter2-too-short', DATABASE_URL: db.url });
  assert.equal(shortSecret.code, 2);
  assert.match(shortSecret.out, /JWT_SECRET/);
  assert.ok(!shortSecret.out.includes('hunter2-too-short'), shortSecret.out);
  const badUrl = await run({ JWT_SECRET: TEST_SECRET, DATABASE_URL: 'mysql://admin:Pa55w0rd-in-url@db.example/relay' });
  assert.equal(badUrl.code, 2);
  assert.ok(!badUrl.out.includes('Pa55w0rd-in-url'), badUrl.out);

  // A database that cannot be reached: the start fails, naming the problem, not the password.
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const unreachable = await run({ JWT_SECRET: TEST_SECRET, DATABASE_URL: `postgres://relay:S3cret-db-pw@127.0.0.1:${port}/relay`, LOG_LEVEL: 'trace' });
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.out, /failed to start/);
  assert.ok(!unreachable.out.includes('S3cret-db-pw'), unreachable.out);
  assert.ok(!unreachable.out.includes(TEST_SECRET));
});

test('login: unknown email and wrong password get the same answer, in about the same time (one argon2 verify each)', async (t) => {
  const a = await signUp(relay.http, 'Timing');
  const login = async (email: string): Promise<{ status: number; body: string; ms: number }> => {
    const t0 = performance.now();
    const res = await http(relay.http, 'POST', '/auth/login', { body: { email, password: 'definitely wrong' } });
    return { status: res.status, body: JSON.stringify(res.body), ms: performance.now() - t0 };
  };
  const unknown = (): string => `ghost.${Math.random().toString(36).slice(2)}@example.com`;
  await login(unknown()); // the first unknown email builds the dummy hash: not measured
  await login(a.email);
  const known: number[] = [];
  const ghost: number[] = [];
  for (let i = 0; i < 15; i++) {
    const k = await login(a.email);
    const g = await login(unknown());
    assert.equal(k.status, 401);
    assert.equal(g.status, 401);
    assert.equal(k.body, g.body, 'the same answer for both');
    known.push(k.ms);
    ghost.push(g.ms);
  }
  const [mk, mg] = [median(known), median(ghost)];
  t.diagnostic(`median login time: wrong password ${mk.toFixed(1)} ms, unknown email ${mg.toFixed(1)} ms`);
  // argon2id at 19 MiB takes milliseconds: a path that skipped it would be far faster.
  assert.ok(mk > 2 && mg > 2, `medians ${mk.toFixed(1)} / ${mg.toFixed(1)} ms: argon2 runs on both paths`);
  assert.ok(Math.abs(mk - mg) / Math.max(mk, mg) < 0.35, `wrong password ${mk.toFixed(1)} ms vs unknown email ${mg.toFixed(1)} ms`);
});

test('passwords are hashed with argon2id at (or above) an OWASP-recommended setting', async () => {
  // OWASP Password Storage Cheat Sheet: argon2id with one of m=47104 t=1, m=19456 t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5; p=1.
  const owasp = [[47_104, 1], [19_456, 2], [12_288, 3], [9_216, 4], [7_168, 5]] as const;
  const phc = await hashPassword('any password at all');
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
  assert.ok(m, phc);
  const [mem, time, par] = [Number(m[1]), Number(m[2]), Number(m[3])];
  assert.ok(par >= 1);
  assert.ok(owasp.some(([om, ot]) => mem >= om && time >= ot), `m=${mem} t=${time} p=${par} is below every OWASP setting`);
});

// ---- SQL injection: every statement is a tagged template (parameterised) -----------------------

const SQL_TEXT = /\b(select\s[\s\S]*\bfrom\b|insert\s+into\b|update\s+\w+\s+set\b|delete\s+from\b|(create|drop|alter)\s+(table|database|index|role|extension|schema)\b|truncate\s+\w)/i;
const UNSAFE_ALLOWED = new Set(['src/db/migrate.ts']); // runs the migration files of sql/, no input in them

/** Statements built from strings: `.unsafe(`, and SQL text in a plain string or untagged template. */
function sqlProblems(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const problems: string[] = [];
  const where = (node: ts.Node): string => `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'unsafe' && !UNSAFE_ALLOWED.has(file)) {
      problems.push(`${where(node)}: .unsafe() builds SQL from a string`);
    }
    const untaggedTemplate = (ts.isTemplateExpression(node) || ts.isNoSubstitutionTemplateLiteral(node)) && !ts.isTaggedTemplateExpression(node.parent);
    if ((untaggedTemplate || ts.isStringLiteral(node)) && SQL_TEXT.test(node.getText(source))) {
      problems.push(`${where(node)}: SQL in a ${ts.isStringLiteral(node) ? 'string' : 'template'} that is not a sql\`\` tagged template`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('the SQL scanner catches string-built statements (checked on bad examples)', () => {
  assert.equal(sqlProblems('src/db/x.ts', 'await sql.unsafe(`select * from users where id = ${id}`)').length, 2);
  assert.equal(sqlProblems('src/db/x.ts', "const q = 'select * from users where email = \\'' + email + '\\''").length, 1);
  assert.equal(sqlProblems('src/db/x.ts', 'const q = `delete from messages where id = ${id}`; await tx.unsafe(q)').length, 2);
  assert.deepEqual(sqlProblems('src/db/x.ts', 'await sql`select * from users where id = ${id}`'), []);
  assert.deepEqual(sqlProblems('src/db/migrate.ts', 'await sp.unsafe(text)'), []);
});

test('every SQL statement in src/ is a parameterised tagged template', () => {
  const files = tsFiles(join(ROOT, 'src'));
  assert.ok(files.length > 20);
  const problems = files.flatMap((f) => sqlProblems(relative(ROOT, f).split('\\').join('/'), readFileSync(f, 'utf8')));
  assert.deepEqual(problems, []);
});

// ---- HTTP headers --------------------------------------------------------------------------------

test('every HTTP answer carries CORS and security headers; preflight is answered', async () => {
  const a = await signUp(relay.http, 'Headers');
  const answers = {
    'GET /health 200': await http(relay.http, 'GET', '/health'),
    'GET /profile 200': await http(relay.http, 'GET', '/profile', { token: a.token }),
    'GET /profile 401': await http(relay.http, 'GET', '/profile'),
    'POST /auth/login 400': await http(relay.http, 'POST', '/auth/login', { raw: '{', headers: { 'content-type': 'application/json' } }),
    'GET /nowhere 404': await http(relay.http, 'GET', '/nowhere'),
    'GET /metrics 200': await http(relay.http, 'GET', '/metrics'),
  };
  for (const [what, res] of Object.entries(answers)) {
    assert.equal(String(res.status), what.split(' ').at(-1), what);
    const h = res.headers;
    assert.equal(h.get('x-content-type-options'), 'nosniff', what);
    assert.equal(h.get('x-frame-options'), 'DENY', what);
    assert.equal(h.get('referrer-policy'), 'no-referrer', what);
    assert.match(h.get('content-security-policy') ?? '', /default-src 'none'/, what);
    assert.equal(h.get('access-control-allow-origin'), '*', what);
    assert.equal(h.get('x-powered-by'), null, what);
    assert.equal(h.get('cache-control'), 'no-store', `${what}: answers with tokens and profiles must not be cached`);
  }
  const preflight = await fetch(`${relay.http}/auth/login`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
  assert.match((preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase(), /authorization/);
  assert.match((preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase(), /content-type/);
  // Credentials are bearer tokens, never cookies: "*" must not come with allow-credentials.
  assert.equal(preflight.headers.get('access-control-allow-credentials'), null);
  const docs = await fetch(`${relay.http}/api/`);
  assert.match(docs.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
});

test('a WebSocket from a browser origin still needs a valid token', async () => {
  const ws = new WebSocket(relay.ws, { headers: { origin: 'https://evil.example' } });
  const status = await new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => resolve(101));
    ws.once('error', () => resolve(-1));
  });
  assert.equal(status, 401);
});

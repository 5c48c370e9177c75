// The small tools every test file needs, written once: the HTTP and WebSocket error assertions,
// `eventually`, a free port, and the scan of a server's logs for secrets and errors.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Frame, HttpAnswer } from './client.js';
import { TEST_SECRET } from './server.js';

/**
 * An HTTP error answer: `status`, a body of exactly {code, error: true, message} with `code` and
 * a non-empty message (matching `message` if given), sent as JSON.
 */
export function assertHttpError(res: HttpAnswer, status: number, code: string, opts: { message?: RegExp; what?: string } = {}): void {
  const what = opts.what ? `${opts.what}: ` : '';
  assert.equal(res.status, status, `${what}expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.deepEqual(Object.keys(res.body ?? {}).sort(), ['code', 'error', 'message'], `${what}${JSON.stringify(res.body)}`);
  assert.equal(res.body.error, true);
  assert.equal(res.body.code, code, what);
  assert.equal(typeof res.body.message, 'string');
  assert.ok(res.body.message.length > 0, `${what}empty message`);
  if (opts.message) assert.match(res.body.message, opts.message);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${what}content type`);
}

/** assertHttpError with the 4th argument as the files had it: a RegExp for the message, or a label. */
export const assertError = (res: HttpAnswer, status: number, code: string, messageOrWhat?: RegExp | string): void =>
  assertHttpError(res, status, code, typeof messageOrWhat === 'string' ? { what: messageOrWhat } : { message: messageOrWhat });

/** What an error message must never show: SQL text or a stack trace. */
const SQL_OR_STACK = /\b(select|insert|update|delete from|relation|syntax|column|violates|constraint)\b|^\s+at |\n\s+at /im;

/**
 * A WebSocket error envelope: exactly {code, error: true, message, type} plus `requestId` when one
 * is expected (and then equal to it), `code` as given, a clear message of 5 to 300 characters
 * without SQL or a stack trace.
 */
export function assertErrorFrame(f: Frame, type: string, code: string, requestId?: string | number): Frame {
  const keys = ['code', 'error', 'message', 'type', ...(requestId === undefined ? [] : ['requestId'])].sort();
  assert.deepEqual(Object.keys(f).sort(), keys, `error envelope: ${JSON.stringify(f)}`);
  assert.equal(f.error, true);
  assert.equal(f.type, type);
  assert.equal(f.code, code, JSON.stringify(f));
  if (requestId !== undefined) assert.equal(f.requestId, requestId);
  assert.equal(typeof f.message, 'string');
  assert.ok(f.message.length >= 5 && f.message.length <= 300, `a clear, short message: ${f.message}`);
  assert.doesNotMatch(f.message, SQL_OR_STACK, 'no SQL text or stack trace');
  return f;
}

/**
 * Resolves once `check` returns true (it may be async), checking every `everyMs`; fails with
 * `what` after `timeoutMs`. For states a test cannot be told about (readiness, a log line).
 */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 5000, everyMs = 20 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A TCP port nothing listens on right now (on 127.0.0.1). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

type LogLine = Record<string, unknown>;

/**
 * The logs of a file's servers hold no secret and no error: none of `secrets` (passwords, tokens
 * the tests saw), not JWT_SECRET, no argon2 hash, nothing at level error or above. `expect`
 * (message texts) proves the logs were captured at all; `atLeast` that the tests collecting
 * secrets did run.
 */
export function assertLogsClean(
  logs: LogLine[],
  { secrets = [], atLeast = 0, expect = [], forbidden = [] }: { secrets?: Iterable<string>; atLeast?: number; expect?: string[]; forbidden?: string[] } = {},
): void {
  const list = [...secrets];
  assert.ok(list.length >= atLeast, `too few secrets collected (${list.length}): the tests above did not run`);
  for (const msg of expect) assert.ok(logs.some((l) => l.msg === msg), `the logs were not captured (no "${msg}")`);
  const text = JSON.stringify(logs);
  for (const secret of list) assert.ok(!text.includes(secret), `a secret reached the logs: ${secret.slice(0, 12)}…`);
  assert.ok(!text.includes(TEST_SECRET), 'JWT_SECRET reached the logs');
  assert.ok(!/\$argon2/.test(text), 'a password hash reached the logs');
  for (const word of forbidden) assert.ok(!text.includes(word), `"${word}" reached the logs`);
  const errors = logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
  assert.deepEqual(errors, [], 'the server logged errors (a 500 somewhere)');
}

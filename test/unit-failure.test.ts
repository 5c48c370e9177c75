// failure.ts: the one mapping of a thrown value to client error / store unavailable / internal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyFailure, reportFailure } from '../src/failure.js';
import { ClientError, ErrorCode } from '../src/protocol.js';
import { AuthError } from '../src/auth/authenticate.js';
import { PayloadTooLarge } from '../src/http/body.js';
import type { Logger } from '../src/log.js';

test('client errors keep their code, message and extra', () => {
  assert.deepEqual(classifyFailure(new ClientError(ErrorCode.RATE_LIMITED, 'slow', { retryAfterMs: 5 })),
    { kind: 'client', code: 'RATE_LIMITED', message: 'slow', extra: { retryAfterMs: 5 } });
  assert.deepEqual(classifyFailure(new AuthError('Token expired')), { kind: 'client', code: 'UNAUTHORIZED', message: 'Token expired' });
  const big = classifyFailure(new PayloadTooLarge());
  assert.equal(big.kind === 'client' && big.code, 'PAYLOAD_TOO_LARGE');
});

test('an unreachable database is "unavailable"; anything else is "internal"', () => {
  for (const code of ['ECONNREFUSED', 'CONNECTION_CLOSED', '57P01', 'DB_UNREACHABLE', 'QUERY_TIMEOUT']) {
    assert.deepEqual(classifyFailure(Object.assign(new Error('x'), { code })), { kind: 'unavailable' }, code);
  }
  for (const err of [new Error('bug'), Object.assign(new Error('dup'), { code: '23505' }), 'a string', undefined, null]) {
    assert.deepEqual(classifyFailure(err), { kind: 'internal' }, String(err));
  }
});

test('reportFailure logs and counts server-side failures only', () => {
  const lines: [string, string][] = [];
  const log = {
    warn: (_o: unknown, msg: string) => lines.push(['warn', msg]),
    error: (_o: unknown, msg: string) => lines.push(['error', msg]),
  } as unknown as Logger;
  const counted: string[] = [];
  const to = { log, count: (k: 'unavailable' | 'other') => counted.push(k) };
  reportFailure(new ClientError(ErrorCode.VALIDATION, 'no'), to, 'handler failed');
  reportFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' }), to, 'handler failed');
  reportFailure(new Error('bug'), to, 'handler failed');
  assert.deepEqual(counted, ['unavailable', 'other']);
  assert.deepEqual(lines, [['warn', 'database unavailable'], ['error', 'handler failed']]);
});

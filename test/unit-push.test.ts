// The push pipeline's pure parts: where the server may post (SSRF rules), what an answer means,
// and when to try again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointRefusal, parseHosts } from '../src/push/endpoints.js';
import { retryAfterMs, retryDelayMs, verdictOf, withinAge } from '../src/push/retry.js';
import { webhookSignature } from '../src/push/senders.js';

const rules = { hosts: parseHosts('fcm.googleapis.com, *.notify.windows.com,127.0.0.1:8080'), allowHttp: false };

test('endpoints: https on a listed host only; wildcards admit subdomains; http only with allowHttp', () => {
  assert.equal(endpointRefusal('https://fcm.googleapis.com/fcm/send/abc', rules), null);
  assert.equal(endpointRefusal('https://FCM.googleapis.com/x', rules), null, 'host names are case-insensitive');
  assert.equal(endpointRefusal('https://wns2-par02p.notify.windows.com/w/?token=x', rules), null);
  assert.notEqual(endpointRefusal('https://notify.windows.com/x', rules), null, '*.host does not admit the host itself');
  assert.notEqual(endpointRefusal('https://fcm.googleapis.com.evil.example/x', rules), null);
  assert.notEqual(endpointRefusal('https://evilnotify.windows.com/x', rules), null);
  assert.notEqual(endpointRefusal('http://fcm.googleapis.com/x', rules), null, 'http refused');
  assert.equal(endpointRefusal('http://fcm.googleapis.com/x', { ...rules, allowHttp: true }), null);
  assert.notEqual(endpointRefusal('http://10.0.0.1/x', { ...rules, allowHttp: true }), null, 'allowHttp admits only listed hosts');
  assert.notEqual(endpointRefusal('https://user:pw@fcm.googleapis.com/x', rules), null);
  assert.notEqual(endpointRefusal('file:///etc/passwd', rules), null);
  assert.notEqual(endpointRefusal('nonsense', rules), null);
  assert.equal(endpointRefusal('https://127.0.0.1:8080/x', rules), null, 'an entry may name host:port');
  assert.notEqual(endpointRefusal('https://127.0.0.1:8081/x', rules), null);
});

test('verdicts: 2xx sent, 404/410 gone, 429/5xx retry (with Retry-After), other 4xx refused', () => {
  assert.deepEqual(verdictOf(201, null), { kind: 'sent' });
  assert.deepEqual(verdictOf(404, null), { kind: 'gone' });
  assert.deepEqual(verdictOf(410, null), { kind: 'gone' });
  assert.deepEqual(verdictOf(429, '7'), { kind: 'retry', afterMs: 7000 });
  assert.deepEqual(verdictOf(503, null), { kind: 'retry', afterMs: null });
  assert.deepEqual(verdictOf(400, null), { kind: 'refused', status: 400 });
  assert.deepEqual(verdictOf(307, null), { kind: 'refused', status: 307 }, 'a redirect is an answer, not followed');
});

test('Retry-After: seconds or an HTTP date', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  assert.equal(retryAfterMs('120', now), 120_000);
  assert.equal(retryAfterMs('Tue, 01 Jan 2030 00:00:30 GMT', now), 30_000);
  assert.equal(retryAfterMs('Mon, 31 Dec 2029 00:00:00 GMT', now), 0);
  assert.equal(retryAfterMs('soon', now), null);
  assert.equal(retryAfterMs(null, now), null);
});

test('backoff: exponential ceiling with jitter, capped; a Retry-After is never undercut', () => {
  assert.equal(retryDelayMs(1, 1000, null, () => 1), 1000);
  assert.equal(retryDelayMs(4, 1000, null, () => 1), 8000);
  assert.equal(retryDelayMs(4, 1000, null, () => 0.25), 2000);
  assert.equal(retryDelayMs(4, 1000, null, () => 0), 500, 'never less than half the base');
  assert.equal(retryDelayMs(40, 1000, null, () => 1), 600_000, 'capped at 10 minutes');
  assert.ok(retryDelayMs(1, 1000, 30_000, () => 1) >= 30_000);
  const spread = new Set(Array.from({ length: 50 }, () => retryDelayMs(6, 1000, null)));
  assert.ok(spread.size > 40, 'jittered');
  assert.equal(withinAge(0, 1000, 3_600_000, 3_598_000), true);
  assert.equal(withinAge(0, 3000, 3_600_000, 3_598_000), false);
});

test('webhook signature: sha256=<hex HMAC-SHA256 of the body>', () => {
  // RFC 4231 test case 2.
  assert.equal(webhookSignature('what do ya want for nothing?', 'Jefe'), 'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});

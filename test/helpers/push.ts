// What the push tests share: subscribing an account, reading /metrics counters, waiting for
// deliveries at the tests' own push service.
import assert from 'node:assert/strict';
import { http, type Account } from './client.js';
import { eventually } from './kit.js';
import type { TestSubscription } from './pushService.js';

/** The env of a server that posts to the tests' push service (plain http on 127.0.0.1) with short timings. */
export const pushEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  PUSH_ENDPOINT_HOSTS: '127.0.0.1', PUSH_ALLOW_HTTP: '1', PUSH_FOLD_MS: '1500', PUSH_POLL_MS: '100',
  PUSH_RETRY_BASE_MS: '200', PUSH_TIMEOUT_MS: '1500', AUTH_RATE_PER_MINUTE: '100000', ...extra,
});

export async function subscribe(base: string, account: Account, sub: TestSubscription): Promise<number> {
  const res = await http(base, 'POST', '/push/subscriptions', { token: account.token, body: { endpoint: sub.endpoint, keys: sub.keys } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as number;
}

/** The value of one sample of /metrics (0 when absent). */
export async function metric(base: string, name: string, labels = ''): Promise<number> {
  const res = await http<string>(base, 'GET', '/metrics');
  const line = res.body.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

export async function received(sub: TestSubscription, n: number, timeoutMs = 5000): Promise<void> {
  await eventually(`${n} notification(s) reached ${sub.endpoint} (got ${sub.received.length})`, () => sub.received.length >= n, { timeoutMs });
}

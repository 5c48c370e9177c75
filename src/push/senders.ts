import { createHmac } from 'node:crypto';
import webpush from 'web-push';
import type { PushNotification } from '../../client/src/wire.js';
import { endpointRefusal, type EndpointRules } from './endpoints.js';
import { post } from './http.js';
import { verdictOf, type Verdict } from './retry.js';
import type { VapidKeys } from './vapid.js';

/** One notification for one target: a browser subscription, or (subscription null) the webhook. */
export interface Delivery {
  id: number;
  userId: number;
  payload: PushNotification;
  urgent: boolean;
  subscription: { endpoint: string; p256dh: string; auth: string } | null;
}

/** Posts one delivery and says what came of it; a network error or timeout rejects. */
export interface Sender {
  send(d: Delivery): Promise<Verdict>;
}

// RFC 8030 TTL: a push service keeps an undelivered notification this long (24 h).
const TTL_SECONDS = 86_400;

// A VAPID JWT is valid for 12 h and reused for 11 (RFC 8292 allows up to 24 h): signing one per
// request cost more than the payload's encryption (about 480 against 200 µs of CPU each).
const VAPID_TTL_S = 12 * 3600;
const VAPID_REUSE_S = 11 * 3600;
// Push services are few; the cache is only bounded against a wildcard host list.
const VAPID_CACHE_MAX = 100;

/** Web Push: payload encrypted per RFC 8291 (aes128gcm), VAPID per RFC 8292. */
export function webPushSender(vapid: VapidKeys, rules: EndpointRules, timeoutMs: number): Sender {
  const signed = new Map<string, { authorization: string; renewAt: number }>();
  const authorizationFor = (origin: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const held = signed.get(origin);
    if (held && held.renewAt > now) return held.authorization;
    const headers = webpush.getVapidHeaders(origin, vapid.subject, vapid.publicKey, vapid.privateKey, 'aes128gcm', now + VAPID_TTL_S);
    if (signed.size >= VAPID_CACHE_MAX) signed.clear();
    signed.set(origin, { authorization: headers.Authorization, renewAt: now + VAPID_REUSE_S });
    return headers.Authorization;
  };

  return {
    async send(d) {
      const sub = d.subscription!;
      // The allowlist may have shrunk since the subscription was made: the server posts to no other address.
      if (endpointRefusal(sub.endpoint, rules) !== null) return { kind: 'refused', status: 0 };
      let encrypted: webpush.EncryptionResult;
      try {
        encrypted = webpush.encrypt(sub.p256dh, sub.auth, JSON.stringify(d.payload), 'aes128gcm');
      } catch {
        // Keys that are no P-256 point: no retry will make them one.
        return { kind: 'refused', status: 0 };
      }
      const answer = await post(sub.endpoint, {
        headers: {
          'content-type': 'application/octet-stream',
          'content-encoding': 'aes128gcm',
          ttl: String(TTL_SECONDS),
          urgency: d.urgent ? 'high' : 'normal',
          authorization: authorizationFor(new URL(sub.endpoint).origin),
        },
        body: encrypted.cipherText,
        timeoutMs,
      });
      return verdictOf(answer.status, answer.retryAfter);
    },
  };
}

/** `sha256=<hex HMAC-SHA256 of the body>`: what X-Relay-Signature carries. */
export const webhookSignature = (body: string, secret: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** The team's own bridge (FCM, APNs…): the notification as JSON with `userId`, signed. */
export function webhookSender(url: string, secret: string, timeoutMs: number): Sender {
  return {
    async send(d) {
      const body = JSON.stringify({ ...d.payload, userId: d.userId });
      const answer = await post(url, {
        headers: { 'content-type': 'application/json', 'x-relay-signature': webhookSignature(body, secret) },
        body, timeoutMs,
      });
      const verdict = verdictOf(answer.status, answer.retryAfter);
      // A webhook has no subscription to delete: a 404 or 410 is a refusal like any other 4xx.
      return verdict.kind === 'gone' ? { kind: 'refused', status: answer.status } : verdict;
    },
  };
}

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

/** Web Push: payload encrypted per RFC 8291 (aes128gcm), VAPID per RFC 8292. */
export function webPushSender(vapid: VapidKeys, rules: EndpointRules, timeoutMs: number): Sender {
  return {
    async send(d) {
      const sub = d.subscription!;
      // The allowlist may have shrunk since the subscription was made: the server posts to no other address.
      const refusal = endpointRefusal(sub.endpoint, rules);
      if (refusal !== null) return { kind: 'refused', status: 0 };
      const req = webpush.generateRequestDetails(
        { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
        JSON.stringify(d.payload),
        { vapidDetails: vapid, TTL: TTL_SECONDS, urgency: d.urgent ? 'high' : 'normal', contentEncoding: 'aes128gcm' },
      );
      const answer = await post(req.endpoint, { headers: req.headers as Record<string, string>, body: req.body, timeoutMs });
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

import * as v from 'valibot';
import type { Services } from '../../services.js';
import type { AuthedRoute, Route } from '../router.js';
import { json } from '../respond.js';
import { parseOrThrow } from '../../validate.js';
import { ClientError, ErrorCode } from '../../protocol.js';
import { endpointRefusal } from '../../push/endpoints.js';

const base64url = (name: string, min: number, max: number) =>
  v.pipe(v.string(`${name} must be a string`), v.regex(/^[\w-]+=*$/, `${name} must be base64url`),
    v.minLength(min, `${name} is too short`), v.maxLength(max, `${name} is too long`));

const endpoint = v.pipe(v.string('endpoint must be a string'), v.minLength(1, 'endpoint must not be empty'),
  v.maxLength(2048, 'endpoint must be at most 2048 characters'));

/** A browser PushSubscription (toJSON()); `expirationTime` and anything else are ignored. */
export const SubscriptionBody = v.object({
  endpoint,
  keys: v.object({
    // An uncompressed P-256 point (65 bytes: 87 characters) and a 16-byte secret (22), padded or not.
    p256dh: base64url('keys.p256dh', 86, 90),
    auth: base64url('keys.auth', 21, 24),
  }, 'keys must be an object with p256dh and auth'),
});
export const UnsubscribeBody = v.object({ endpoint });

/** PROTOCOL.md v1.2, "Notifications to offline devices": the key, and the account's subscriptions. */
export function pushRoutes(s: Services): (Route | AuthedRoute)[] {
  return [
    {
      method: 'get', path: '/push/key',
      handle: () => json(200, { publicKey: s.push.publicKey }),
    },
    {
      method: 'post', path: '/push/subscriptions', auth: true, body: true,
      async handle(req, me) {
        const body = parseOrThrow(SubscriptionBody, req.body);
        // SSRF: the server will post to this address; only the push services' hosts are admitted.
        const refusal = endpointRefusal(body.endpoint, s.push.rules);
        if (refusal !== null) throw new ClientError(ErrorCode.VALIDATION, refusal);
        const id = await s.push.subscriptions.save({ userId: me.id, endpoint: body.endpoint, p256dh: body.keys.p256dh, auth: body.keys.auth });
        return json(201, { id });
      },
    },
    {
      method: 'del', path: '/push/subscriptions', auth: true, body: true,
      async handle(req, me) {
        const body = parseOrThrow(UnsubscribeBody, req.body);
        await s.push.subscriptions.remove(me.id, body.endpoint);
        return { status: 204 };
      },
    },
  ];
}

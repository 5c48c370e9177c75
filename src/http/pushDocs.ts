import * as v from 'valibot';
import { toJsonSchema } from '@valibot/to-json-schema';
import { SubscriptionBody, UnsubscribeBody } from './routes/push.js';

/**
 * The v1.2 notifications part of the OpenAPI document (PROTOCOL.md "Notifications to offline
 * devices"): the push routes, the webhook a team's bridge receives, and the mute messages.
 */
const schema = (s: v.GenericSchema) => toJsonSchema(s, { errorMode: 'ignore', typeMode: 'input' });
const int = { type: 'integer' };
const nullableInt = { type: ['integer', 'null'] };
const str = { type: 'string' };
const object = (properties: Record<string, object>, description?: string) => ({
  type: 'object', ...(description ? { description } : {}), properties, required: Object.keys(properties),
});
const err = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]));

export const notification = object({
  type: { const: 'message' }, id: int, seq: int, senderId: int, senderName: str, receiverId: nullableInt, groupId: nullableInt,
  groupName: { type: ['string', 'null'] }, preview: { type: 'string', description: 'The first 100 code points of the content' },
  unreadCount: int,
}, 'A notification: the Web Push payload (encrypted per RFC 8291, aes128gcm; VAPID per RFC 8292; TTL 24 h; Urgency high for dialogs). ' +
  'It describes the conversation\'s newest message when it is sent; bursts within 5 s fold into one.');

const muteState = object({ receiverId: nullableInt, groupId: nullableInt, muted: { type: 'boolean' }, mutedUntil: { type: ['string', 'null'], format: 'date-time' } });

export const pushPaths = {
  '/push/key': { get: { summary: 'The VAPID application server key (base64url) for pushManager.subscribe',
    responses: { 200: { description: 'Key', content: { 'application/json': { schema: object({ publicKey: str }) } } } } } },
  '/push/subscriptions': {
    post: {
      summary: 'Notify this browser subscription while the account has no open socket. The same endpoint again updates it; ' +
        'at most 10 per account (the oldest goes). The endpoint must be https: on a host of PUSH_ENDPOINT_HOSTS, else 400 VALIDATION.',
      security: [{ bearer: [] }],
      requestBody: { required: true, content: { 'application/json': { schema: schema(SubscriptionBody) } } },
      responses: { 201: { description: 'Registered', content: { 'application/json': { schema: object({ id: int }) } } }, ...err(400, 401, 413) },
    },
    delete: {
      summary: 'Stop notifying this endpoint', security: [{ bearer: [] }],
      requestBody: { required: true, content: { 'application/json': { schema: schema(UnsubscribeBody) } } },
      responses: { 204: { description: 'Deleted (or there was none)' }, ...err(400, 401) },
    },
  },
};

/** OpenAPI 3.1 `webhooks`: what PUSH_WEBHOOK_URL receives. */
export const pushWebhooks = {
  notification: { post: {
    summary: 'Each notification, POSTed to PUSH_WEBHOOK_URL (a team\'s bridge to FCM/APNs). Retried like Web Push on network errors, 5xx and 429 for up to 1 h.',
    parameters: [{ name: 'X-Relay-Signature', in: 'header', required: true, schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' },
      description: 'sha256=<hex HMAC-SHA256 of the raw body with PUSH_WEBHOOK_SECRET>' }],
    requestBody: { required: true, content: { 'application/json': { schema: { ...notification, properties: { ...notification.properties, userId: int },
      required: [...notification.required, 'userId'], description: 'The notification, with userId: whom it is for.' } } } },
    responses: { 200: { description: 'Taken (any 2xx)' } },
  } },
};

export const pushReplies = {
  muteConversation: { ...muteState, description: 'No notifications about this conversation (mentions still notify) until `until`, or until unmuted (mutedUntil null). FORBIDDEN for a group the caller is not in, NOT_FOUND for an unknown account.' },
  unmuteConversation: muteState,
};

export const pushPushes = {
  muteConversation: { ...muteState, description: 'To the caller\'s other connections: the same data as the reply. message: null, senderName: the caller.' },
  unmuteConversation: { ...muteState, description: 'To the caller\'s other connections.' },
};

/**
 * The v1.2 replies, mentions, reactions and pins part of the OpenAPI document (PROTOCOL.md v1.2):
 * what the new WebSocket types answer, the pushes they cause, and the fields v1.2 adds to the
 * message rows of older types (request schemas come from the handlers' own valibot schemas).
 */
const int = { type: 'integer' };
const nullableInt = { type: ['integer', 'null'] };
const date = { type: 'string', format: 'date-time' };
const nullableDate = { type: ['string', 'null'], format: 'date-time' };

const object = (properties: Record<string, object>, description?: string) => ({
  type: 'object', ...(description ? { description } : {}), properties, required: Object.keys(properties),
});

const messageRef = { messageId: int, seq: int, senderId: int, receiverId: nullableInt, groupId: nullableInt };

/** `replyTo` of a message row. */
export const replyToSchema = {
  oneOf: [
    { type: 'null' },
    object({ id: int, seq: int, senderId: int, senderName: { type: 'string' }, content: { type: 'string' }, deletedAt: nullableDate },
      'The message replied to, as it is now: its first 100 code points ("" once deleted), its sender\'s current name.'),
  ],
};
const reactions = {
  type: 'array',
  description: 'In the order each emoji first appeared on the message; `me`: the reader holds it.',
  items: object({ emoji: { type: 'string' }, count: int, me: { type: 'boolean' } }),
};
const mentions = { type: 'array', items: int, description: 'Mentioned members, ascending ([] in dialogs and when none).' };

const ROWS_V12 = 'v1.2 adds replyTo and mentions to every message row (send replies, message pushes, editMessage replies and pushes, ' +
  'both histories, getPinned) and reactions to history and getPinned rows. messageInGroup takes replyToId? and mentions? ' +
  '(up to 50 distinct user ids; those that are not current members are dropped); privateMessage takes replyToId? ' +
  '(a message of the same conversation that is not deleted, else NOT_FOUND).';

/** `data` of the success reply, per v1.2 message type (and the fields v1.2 adds to older ones). */
export const v12Replies = {
  addReaction: object({ ...messageRef, reactions },
    'emoji: 1..16 code points, no white space or control characters. Adding one the caller holds answers the current state and pushes nothing. ' +
    'A 21st distinct emoji on a message: CONFLICT. Unknown, deleted, or outside the caller\'s conversations: NOT_FOUND.'),
  removeReaction: object({ ...messageRef, reactions }, 'Removing one the caller does not hold answers the current state and pushes nothing.'),
  pinMessage: object({ ...messageRef, pinnedAt: date, pinnedBy: int },
    'Either side of a dialog; in a group the owner and admins (FORBIDDEN for members). At most 50 per conversation (CONFLICT). ' +
    'Pinning a pinned message answers the current state and pushes nothing. A deleted message cannot be pinned (NOT_FOUND); deleting unpins.'),
  unpinMessage: object({ ...messageRef, pinnedAt: { type: 'null' }, pinnedBy: { type: 'null' } }, 'Who may: as pinMessage.'),
  getPinned: {
    type: 'array',
    description: 'receiverId or groupId (exactly one; a group needs membership: FORBIDDEN). The conversation\'s history rows ' +
      '(getlatestMessageDialog or getlatestMessageGroup shape, v1.2 fields included) plus pinnedAt and pinnedBy, most recently pinned first.',
    items: { type: 'object', properties: { pinnedAt: date, pinnedBy: nullableInt, replyTo: replyToSchema, mentions, reactions } },
  },
};

/**
 * What v1.2 adds to the replies of older types: combined (allOf) with their v1 / v1.1 description.
 */
export const v12RowAdditions: Record<string, object> = {
  messageInGroup: { description: ROWS_V12, properties: { replyTo: replyToSchema, mentions } },
  privateMessage: { description: ROWS_V12, properties: { replyTo: replyToSchema, mentions } },
  editMessage: { description: ROWS_V12, properties: { replyTo: replyToSchema, mentions } },
  getlatestMessageDialog: { description: ROWS_V12, items: { properties: { replyTo: replyToSchema, mentions, reactions } } },
  getlatestMessageGroup: { description: ROWS_V12, items: { properties: { replyTo: replyToSchema, mentions, reactions } } },
  listLastMessage: {
    description: 'v1.2 adds mentionCount to every row: messages after the caller\'s read marker that mention the caller and are not deleted.',
    items: { properties: { mentionCount: int } },
  },
};

/** `params.data` of the v1.2 pushes (message: null, senderName: who acted). */
export const v12Pushes = {
  addReaction: object({ ...messageRef, userId: int, emoji: { type: 'string' }, count: int },
    'To everyone in the conversation but the acting connection. Encoded once for all, so it carries who acted and the emoji\'s count ' +
    'after the change (holders), not `me`: a client sets its own `me` when userId is its own.'),
  removeReaction: object({ ...messageRef, userId: int, emoji: { type: 'string' }, count: int }, 'As addReaction; count 0: the emoji is gone.'),
  pinMessage: object({ ...messageRef, userId: int, pinnedAt: date }, 'To everyone in the conversation but the acting connection.'),
  unpinMessage: object({ ...messageRef, userId: int, pinnedAt: { type: 'null' } }, 'As pinMessage. A deletion unpins without this push.'),
};

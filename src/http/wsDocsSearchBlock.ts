/**
 * The v1.2 search and blocking part of the OpenAPI document: what the new WebSocket types answer
 * and the pushes they cause (request schemas come from the handlers' own valibot schemas).
 */
const int = { type: 'integer' };
const nullableInt = { type: ['integer', 'null'] };
const str = { type: 'string' };
const nullableStr = { type: ['string', 'null'] };
const date = { type: 'string', format: 'date-time' };
const nullableDate = { type: ['string', 'null'], format: 'date-time' };

const object = (properties: Record<string, object>, description?: string) => ({
  type: 'object', ...(description ? { description } : {}), properties, required: Object.keys(properties),
});

const searchHit = object({
  id: int, seq: int, senderId: int, senderName: str, receiverId: nullableInt, receiverName: nullableStr,
  groupId: nullableInt, groupName: nullableStr, content: str, createdAt: date, editedAt: nullableDate,
  replyTo: { type: ['object', 'null'], description: 'The replied-to message as it is now: {id, seq, senderId, senderName, content, deletedAt}' },
  mentions: { type: 'array', items: int },
  reactions: { type: 'array', items: object({ emoji: str, count: int, me: { type: 'boolean' } }) },
  attachments: { type: 'array', description: 'Files the message carries ([] until files exist)' },
  highlights: {
    type: 'array', description: '[start, end) code point offsets into content of every word that some query word begins, in order',
    items: { type: 'array', items: int, minItems: 2, maxItems: 2 },
  },
});

/** `data` of the success reply, per v1.2 search and blocking type. */
export const searchBlockReplies = {
  searchMessages: {
    type: 'array', items: searchHit,
    description: 'Messages, newest first, in which every query word begins some word of the current content, regardless of case. ' +
      'A word is a run of letters and digits. query: 1..200 code points holding 1..10 words (VALIDATION otherwise). Scope: ' +
      'receiverId (that dialog) or groupId (that group; FORBIDDEN if not a member), at most one; neither: the caller\'s dialogs ' +
      'and the groups it is a member of now (their whole history). Deleted messages never match. limit 1..100 (20); ' +
      'beforeId: the matches older than that id.',
  },
  blockUser: { const: null, description: 'Blocking oneself: VALIDATION; an unknown or deleted account: NOT_FOUND; blocking again changes nothing. ' +
    'While blocked: no typing or presence either way, getPresence shows offline with no lastSeenAt both ways, listLastMessage rows carry blocked: true.' },
  unblockUser: { const: null, description: 'Not blocked: changes nothing.' },
  getBlockedUsers: { type: 'array', items: object({ userId: int, firstName: str, lastName: nullableStr, blockedAt: date }), description: 'Most recently blocked first.' },
  privateMessage: {
    description: 'v1.2: across a block nothing is stored: FORBIDDEN "This user does not accept your messages" to the blocked sender, ' +
      '"Unblock this user to message them" to the blocker.',
  },
};

/** `params.data` of the v1.2 blocking pushes: to the blocker's other connections, and only on a change. */
export const searchBlockPushes = {
  blockUser: object({ userId: int }, 'To the blocker\'s other connections only (the blocked user is told nothing). message: null, senderName: the blocker.'),
  unblockUser: object({ userId: int }, 'As blockUser.'),
};

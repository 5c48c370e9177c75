/**
 * The v1.1 conversation-state part of the OpenAPI document: what the new WebSocket types answer
 * and the pushes they cause (request schemas come from the handlers' own valibot schemas).
 */
const int = { type: 'integer' };
const nullableInt = { type: ['integer', 'null'] };
const date = { type: 'string', format: 'date-time' };

const object = (properties: Record<string, object>, description?: string) => ({
  type: 'object', ...(description ? { description } : {}), properties, required: Object.keys(properties),
});

const readState = {
  userId: int, receiverId: nullableInt, groupId: nullableInt, lastReadId: nullableInt, lastReadSeq: int,
};
const edited = {
  id: int, seq: int, senderId: int, receiverId: nullableInt, groupId: nullableInt, content: { type: 'string' },
  createdAt: date, editedAt: date,
};
const deleted = { id: int, seq: int, senderId: int, receiverId: nullableInt, groupId: nullableInt, deletedAt: date };

const HISTORY_V11 = 'v1.1 adds seq, editedAt and deletedAt to every history row; sends (messageInGroup, privateMessage) and their ' +
  'pushes gain seq: gapless per conversation, 1 for the first message, in id order.';

/** `data` of the success reply, per v1.1 message type (and the v1 types' added fields). */
export const conversationReplies = {
  markRead: object({ ...readState, unreadCount: int },
    'The caller\'s marker after the move (forward only: an older messageId changes nothing and answers the current state). ' +
    'Exactly one of receiverId/groupId. Errors: VALIDATION, FORBIDDEN (not a member), NOT_FOUND (message not in that conversation).'),
  editMessage: object(edited, 'Only the sender edits. FORBIDDEN for others in the conversation; NOT_FOUND for a deleted or unknown message or one outside the caller\'s conversations.'),
  deleteMessage: object(deleted,
    'The sender deletes; in a group also its owner and admins. The content is erased from the store and shows as "". ' +
    'Deleting a deleted message answers the same and pushes nothing. FORBIDDEN / NOT_FOUND as for editMessage.'),
  listLastMessage: {
    description: 'v1.1 adds to every row: seq (of the newest message; null for a group without messages), unreadCount ' +
      '(the conversation\'s newest seq minus the caller\'s marker), lastReadId (the caller\'s marker), peerLastReadId (dialogs: the partner\'s marker; groups: null). v1.2 adds muted and mutedUntil (the caller\'s mute; mutedUntil null while muted until unmuted).',
  },
  getlatestMessageDialog: { description: HISTORY_V11 },
  getlatestMessageGroup: { description: HISTORY_V11 },
};

/** `params.data` of the pushes added by v1.1 conversation state (the envelope is the v1 one). */
export const conversationPushes = {
  markRead: {
    // unreadCount only in the pushes to the reader's own connections.
    ...object(readState, 'To the reader\'s other connections (with unreadCount) and, in a dialog, to the partner (a read receipt, ' +
      'receiverId = the partner). message: null, senderName: the reader.'),
    properties: { ...readState, unreadCount: int },
  },
  editMessage: object(edited, 'To everyone in the conversation but the editing connection. message: the new content, senderName: the sender.'),
  deleteMessage: object(deleted, 'To everyone in the conversation but the deleting connection. message: null, senderName: who deleted it.'),
};

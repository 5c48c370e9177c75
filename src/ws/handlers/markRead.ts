import * as v from 'valibot';
import { defineHandler, present } from '../handler.js';
import { conversation, exactlyOneConversation, EXACTLY_ONE_CONVERSATION, messageId } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER, pushFrame, userTopic } from '../../protocol.js';

export const markRead = defineHandler({
  params: v.pipe(
    v.object({ ...conversation, messageId: messageId('messageId') }),
    v.check(exactlyOneConversation, EXACTLY_ONE_CONVERSATION),
  ),
  async handle({ s, ws, userId }, p) {
    const receiverId = p.receiverId ?? null;
    const groupId = p.groupId ?? null;
    const result = groupId !== null
      ? await s.messages.markGroupRead(userId, groupId, p.messageId)
      : await s.messages.markDialogRead(userId, receiverId!, p.messageId);
    if (!result.ok) {
      if (result.reason === 'not-member') throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
      throw new ClientError(ErrorCode.NOT_FOUND, 'Message not found in this conversation');
    }
    const { lastReadId, lastReadSeq, unreadCount, moved, readerName } = result.state;
    const data = { userId, receiverId, groupId, lastReadId: present(lastReadId, 'the read marker after markRead'), lastReadSeq };
    if (moved) {
      // The reader's other devices learn the new unread count; the partner gets a read receipt.
      s.pubsub.publish(userTopic(userId), pushFrame('markRead', { ...data, unreadCount }, null, readerName), ws);
      if (receiverId !== null && receiverId !== userId) {
        s.pubsub.publish(userTopic(receiverId), pushFrame('markRead', data, null, readerName), ws);
      }
    }
    return { ...data, unreadCount };
  },
});

import * as v from 'valibot';
import { defineHandler, present } from '../handler.js';
import { messageId, text } from '../../validate.js';
import { ClientError, ErrorCode, pushFrame } from '../../protocol.js';
import { conversationTopics } from '../../announce.js';

export const editMessage = defineHandler({
  params: v.object({ messageId: messageId('messageId'), content: text('content', 4096) }),
  async handle({ s, ws, userId }, p) {
    const result = await s.messages.editMessage(userId, p.messageId, p.content);
    if (result.kind === 'not-found') throw new ClientError(ErrorCode.NOT_FOUND, 'Message not found');
    if (result.kind === 'forbidden') throw new ClientError(ErrorCode.FORBIDDEN, 'Only the sender may edit a message');
    const { id, seq, senderId, receiverId, groupId, content, createdAt, editedAt, replyTo, mentions, attachments } = result.message;
    const data = {
      id, seq, senderId, receiverId, groupId, content, createdAt, editedAt: present(editedAt, 'editedAt of an edited message'),
      replyTo, mentions, attachments: attachments ?? [],
    };
    const push = pushFrame('editMessage', data, content, result.actorName);
    for (const topic of conversationTopics(result.message)) s.pubsub.publish(topic, push, ws);
    return data;
  },
});

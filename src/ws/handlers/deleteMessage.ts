import * as v from 'valibot';
import { defineHandler, present } from '../handler.js';
import { messageId } from '../../validate.js';
import { ClientError, ErrorCode, pushFrame } from '../../protocol.js';
import { conversationTopics } from '../../announce.js';

export const deleteMessage = defineHandler({
  params: v.object({ messageId: messageId('messageId') }),
  async handle({ s, ws, userId }, p) {
    const result = await s.messages.deleteMessage(userId, p.messageId);
    if (result.kind === 'not-found') throw new ClientError(ErrorCode.NOT_FOUND, 'Message not found');
    if (result.kind === 'forbidden') {
      throw new ClientError(ErrorCode.FORBIDDEN, 'Only the sender, or a group owner or admin, may delete a message');
    }
    const { id, seq, senderId, receiverId, groupId, deletedAt } = result.message;
    const data = { id, seq, senderId, receiverId, groupId, deletedAt: present(deletedAt, 'deletedAt of a deleted message') };
    // A message deleted before answers the same and pushes nothing.
    if (result.kind === 'changed') {
      const push = pushFrame('deleteMessage', data, null, result.actorName);
      for (const topic of conversationTopics(result.message)) s.pubsub.publish(topic, push, ws);
    }
    return data;
  },
});

import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { emoji, messageId } from '../../validate.js';
import { ClientError, ErrorCode, pushFrame } from '../../protocol.js';
import { conversationTopics } from '../../announce.js';

/**
 * addReaction and removeReaction: one handler shape for both. The reply carries the reactions as
 * the caller sees them (`me`); the push, encoded once for everyone in the conversation, carries who
 * acted and the emoji's new count instead, from which each client updates its own `me`.
 */
export const reactionHandler = (op: 'addReaction' | 'removeReaction') => defineHandler({
  params: v.object({ messageId: messageId('messageId'), emoji }),
  async handle({ s, ws, userId }, p) {
    const outcome = op === 'addReaction'
      ? await s.messages.addReaction(userId, p.messageId, p.emoji)
      : await s.messages.removeReaction(userId, p.messageId, p.emoji);
    if (outcome.kind === 'not-found') throw new ClientError(ErrorCode.NOT_FOUND, 'Message not found');
    if (outcome.kind === 'full') throw new ClientError(ErrorCode.CONFLICT, 'A message holds at most 20 different emoji');
    const { messageId: id, seq, senderId, receiverId, groupId, reactions, count, actorName } = outcome.result;
    if (outcome.kind === 'changed') {
      const push = pushFrame(op, { messageId: id, seq, senderId, receiverId, groupId, userId, emoji: p.emoji, count }, null, actorName);
      for (const topic of conversationTopics({ senderId, receiverId, groupId })) s.pubsub.publish(topic, push, ws);
    }
    return { messageId: id, seq, senderId, receiverId, groupId, reactions };
  },
});

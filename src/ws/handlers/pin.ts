import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { messageId } from '../../validate.js';
import { ClientError, ErrorCode, pushFrame } from '../../protocol.js';
import { conversationTopics } from '../../announce.js';
import { MAX_PINNED } from '../../db/pins.js';

/** pinMessage and unpinMessage: one handler shape for both. */
export const pinHandler = (op: 'pinMessage' | 'unpinMessage') => defineHandler({
  params: v.object({ messageId: messageId('messageId') }),
  async handle({ s, ws, userId }, p) {
    const outcome = op === 'pinMessage'
      ? await s.messages.pinMessage(userId, p.messageId)
      : await s.messages.unpinMessage(userId, p.messageId);
    if (outcome.kind === 'not-found') throw new ClientError(ErrorCode.NOT_FOUND, 'Message not found');
    if (outcome.kind === 'forbidden') throw new ClientError(ErrorCode.FORBIDDEN, 'Only a group owner or admin may pin or unpin messages');
    if (outcome.kind === 'full') throw new ClientError(ErrorCode.CONFLICT, `A conversation holds at most ${MAX_PINNED} pinned messages`);
    const { messageId: id, seq, senderId, receiverId, groupId, pinnedAt, pinnedBy, actorName } = outcome.result;
    if (outcome.kind === 'changed') {
      const push = pushFrame(op, { messageId: id, seq, senderId, receiverId, groupId, userId, pinnedAt }, null, actorName);
      for (const topic of conversationTopics({ senderId, receiverId, groupId })) s.pubsub.publish(topic, push, ws);
    }
    return { messageId: id, seq, senderId, receiverId, groupId, pinnedAt, pinnedBy };
  },
});

import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32 } from '../../validate.js';
import { ClientError, ErrorCode, pushFrame, userTopic } from '../../protocol.js';

export const blockUser = defineHandler({
  params: v.object({ userId: id32('userId') }),
  async handle({ s, ws, userId }, p) {
    if (p.userId === userId) throw new ClientError(ErrorCode.VALIDATION, 'userId: you cannot block yourself');
    const outcome = await s.blocks.block(userId, p.userId);
    if (outcome.kind === 'not-found') throw new ClientError(ErrorCode.NOT_FOUND, 'User not found');
    // The blocker's other devices only: the blocked user is told nothing.
    if (outcome.kind === 'changed') {
      s.pubsub.publish(userTopic(userId), pushFrame('blockUser', { userId: p.userId }, null, outcome.actorName), ws);
    }
    return null;
  },
});

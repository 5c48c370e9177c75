import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32 } from '../../validate.js';
import { ClientError, ErrorCode, pushFrame, userTopic } from '../../protocol.js';

export const unblockUser = defineHandler({
  params: v.object({ userId: id32('userId') }),
  async handle({ s, ws, userId }, p) {
    const outcome = await s.blocks.unblock(userId, p.userId);
    if (outcome.kind === 'not-found') throw new ClientError(ErrorCode.NOT_FOUND, 'User not found');
    if (outcome.kind === 'changed') {
      s.pubsub.publish(userTopic(userId), pushFrame('unblockUser', { userId: p.userId }, null, outcome.actorName), ws);
    }
    return null;
  },
});

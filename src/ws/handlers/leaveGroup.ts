import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32 } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER } from '../../protocol.js';
import { announceLeave, announceNewOwner } from '../../announce.js';

export const leaveGroup = defineHandler({
  params: v.object({ groupId: id32('groupId') }),
  async handle({ s, ws, userId }, p) {
    const left = await s.groups.removeMember(p.groupId, userId);
    if (left === undefined) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    announceLeave(s.pubsub, { groupId: p.groupId, userId, name: left.name }, ws);
    // After the leave: the leaver's sockets are unsubscribed, so only the remaining members hear it.
    if (left.newOwnerId !== undefined) announceNewOwner(s.pubsub, { groupId: p.groupId, userId: left.newOwnerId, by: left.name });
    return null;
  },
});

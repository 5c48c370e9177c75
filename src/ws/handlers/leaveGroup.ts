import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32 } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER } from '../../protocol.js';
import { announceLeave } from '../../announce.js';

export const leaveGroup = defineHandler({
  params: v.object({ groupId: id32('groupId') }),
  async handle({ s, ws, userId }, p) {
    const name = await s.groups.removeMember(p.groupId, userId);
    if (name === undefined) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    announceLeave(s.pubsub, { groupId: p.groupId, userId, name }, ws);
    return null;
  },
});

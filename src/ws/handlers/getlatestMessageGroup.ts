import * as v from 'valibot';
import { defineHandler, toPage } from '../handler.js';
import { id32, limit, messageId, page } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER } from '../../protocol.js';

export const getlatestMessageGroup = defineHandler({
  params: v.object({
    groupId: id32('groupId'),
    limit,
    page,
    beforeId: v.optional(messageId('beforeId')),
    afterId: v.optional(messageId('afterId')),
  }),
  async handle({ s, userId }, p) {
    // Both in flight at once; the history is only handed out if the membership holds.
    const [member, rows] = await Promise.all([s.groups.isMember(p.groupId, userId), s.messages.groupHistory(p.groupId, toPage(p))]);
    if (!member) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    return rows;
  },
});

import * as v from 'valibot';
import { defineHandler, toPage } from '../handler.js';
import { historyPaging, id32 } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER } from '../../protocol.js';

export const getlatestMessageGroup = defineHandler({
  params: v.object({ groupId: id32('groupId'), ...historyPaging }),
  async handle({ s, userId }, p) {
    const { data } = await s.messages.groupHistory(userId, p.groupId, toPage(p));
    if (data === null) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    return data;
  },
});

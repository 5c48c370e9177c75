import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { conversation, exactlyOneConversation, EXACTLY_ONE_CONVERSATION } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER } from '../../protocol.js';

export const getPinned = defineHandler({
  params: v.pipe(v.object({ ...conversation }), v.check(exactlyOneConversation, EXACTLY_ONE_CONVERSATION)),
  async handle({ s, userId }, p) {
    if (p.groupId != null) {
      const data = await s.messages.groupPinned(userId, p.groupId);
      if (data === null) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
      return data;
    }
    return s.messages.dialogPinned(userId, p.receiverId!);
  },
});

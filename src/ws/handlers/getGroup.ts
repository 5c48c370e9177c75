import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32 } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER } from '../../protocol.js';

export const getGroup = defineHandler({
  params: v.object({ groupId: id32('groupId') }),
  async handle({ s, userId }, p) {
    const [group] = await s.groups.info(p.groupId, userId);
    if (!group) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    return group;
  },
});

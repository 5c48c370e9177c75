import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32, limit, page } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER } from '../../protocol.js';
import type { Member } from '../../db/groups.js';

export const getGroupMembers = defineHandler({
  params: v.object({ groupId: id32('groupId'), limit, page }),
  async handle({ s, userId }, p) {
    const rows = await s.groups.members(p.groupId, userId, p.limit, (p.page - 1) * p.limit);
    if (!rows[0]?.member) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    return rows.filter((r): r is typeof r & Member => r.userId != null).map(({ member: _member, ...m }) => m);
  },
});

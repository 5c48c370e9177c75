import * as v from 'valibot';
import { defineHandler, toPage } from '../handler.js';
import { historyPaging, id32 } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER } from '../../protocol.js';
import type { GroupHistoryRow } from '../../db/messages.js';

type MessageRow = { [K in keyof GroupHistoryRow]: NonNullable<GroupHistoryRow[K]> };

export const getlatestMessageGroup = defineHandler({
  params: v.object({ groupId: id32('groupId'), ...historyPaging }),
  async handle({ s, userId }, p) {
    const rows = await s.messages.groupHistory(userId, p.groupId, toPage(p));
    if (!rows[0]?.member) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    // A member of a group without messages gets one row of nulls (see groupHistory).
    return rows.filter((r): r is typeof r & MessageRow => r.id !== null).map(({ member: _member, ...row }) => row);
  },
});

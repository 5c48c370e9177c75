import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32, trimmedText } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER, groupTopic, pushFrame } from '../../protocol.js';

export const renameGroup = defineHandler({
  params: v.object({ groupId: id32('groupId'), groupName: trimmedText('groupName', 100) }),
  async handle({ s, ws, userId }, p) {
    const r = await s.groups.rename(p.groupId, userId, p.groupName);
    if (!r.actorRole) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    if (r.groupName === null) throw new ClientError(ErrorCode.FORBIDDEN, 'Only the group owner or an admin can rename the group');
    const data = { groupId: p.groupId, groupName: r.groupName };
    s.pubsub.publish(groupTopic(p.groupId), pushFrame('renameGroup', data, `${r.actorName} renamed the group to ${r.groupName}`, r.actorName), ws);
    return data;
  },
});

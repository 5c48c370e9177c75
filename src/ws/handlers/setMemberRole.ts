import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32 } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER, groupTopic, pushFrame } from '../../protocol.js';

export const setMemberRole = defineHandler({
  params: v.object({
    groupId: id32('groupId'),
    userId: id32('userId'),
    role: v.picklist(['admin', 'member'], 'role must be "admin" or "member"'),
  }),
  async handle({ s, ws, userId: me }, p) {
    const r = await s.groups.setRole(p.groupId, me, p.userId, p.role);
    if (!r.actorRole) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    if (r.changed) {
      s.pubsub.publish(groupTopic(p.groupId), pushFrame('setMemberRole', { groupId: p.groupId, userId: p.userId, role: p.role }, null, r.actorName), ws);
      return null;
    }
    if (r.actorRole !== 'owner') throw new ClientError(ErrorCode.FORBIDDEN, 'Only the group owner can change member roles');
    if (!r.targetRole) throw new ClientError(ErrorCode.NOT_FOUND, 'That user is not a member of this group');
    if (r.targetRole === 'owner') throw new ClientError(ErrorCode.FORBIDDEN, "The owner's role changes only by leaving the group (leaveGroup)");
    if (r.targetRole === p.role) return null;
    // The target left (or was removed) while this ran.
    throw new ClientError(ErrorCode.NOT_FOUND, 'That user is not a member of this group');
  },
});

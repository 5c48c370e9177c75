import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32 } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER, groupTopic, pushFrame } from '../../protocol.js';

export const removeUserFromGroup = defineHandler({
  params: v.object({ groupId: id32('groupId'), userId: id32('userId') }),
  async handle({ s, ws, userId: me }, p) {
    const r = await s.groups.removeUser(p.groupId, me, p.userId);
    if (!r.actorRole) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    if (!r.removed) {
      if (r.actorRole === 'member') throw new ClientError(ErrorCode.FORBIDDEN, 'Only the group owner or an admin can remove members');
      if (!r.targetRole) throw new ClientError(ErrorCode.NOT_FOUND, 'That user is not a member of this group');
      if (r.targetRole === 'owner') throw new ClientError(ErrorCode.FORBIDDEN, 'Nobody can remove the group owner; the owner leaves with leaveGroup');
      if (r.targetRole === 'admin') throw new ClientError(ErrorCode.FORBIDDEN, 'Only the group owner can remove an admin');
      // The target left (or was removed) while this ran.
      throw new ClientError(ErrorCode.NOT_FOUND, 'That user is not a member of this group');
    }
    // Push first, while the removed user's sockets are still subscribed; then they leave the
    // group's topic on every node, as after leaveGroup.
    s.pubsub.publish(
      groupTopic(p.groupId),
      pushFrame('removeUserFromGroup', { groupId: p.groupId, userId: p.userId, userName: r.targetName },
        `${r.targetName} was removed from ${r.groupName}`, r.actorName),
      ws,
    );
    s.pubsub.control(p.userId, { op: 'leave', groupId: p.groupId });
    return null;
  },
});

import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32 } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER, groupTopic, pushFrame } from '../../protocol.js';

export const addUserInGroup = defineHandler({
  params: v.object({ groupId: id32('groupId'), userId: id32('userId') }),
  async handle({ s, ws, userId: adderId }, p) {
    const result = await s.groups.addMember(p.groupId, adderId, p.userId);
    if (!result.ok) {
      switch (result.reason) {
        case 'not-member': throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
        case 'no-user': throw new ClientError(ErrorCode.NOT_FOUND, 'User not found');
        case 'already-member': throw new ClientError(ErrorCode.CONFLICT, 'User is already a member of this group');
      }
    }
    const push = pushFrame(
      'addUserInGroup',
      { groupId: p.groupId, groupName: result.groupName, userId: p.userId, userName: result.userName },
      `${result.userName} was added to ${result.groupName}`,
      result.adderName,
    );
    // Members first, then the newcomer joins with the same push: nobody gets it twice.
    s.pubsub.publish(groupTopic(p.groupId), push, ws);
    s.pubsub.control(p.userId, { op: 'join', groupId: p.groupId, push });
    return null;
  },
});

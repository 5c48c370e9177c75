import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { trimmedText } from '../../validate.js';
import { groupTopic, pushFrame } from '../../protocol.js';

export const newGroup = defineHandler({
  params: v.object({ groupName: trimmedText('groupName', 100) }),
  async handle({ s, ws, userId }, p) {
    const { creatorName, ...group } = await s.groups.create(p.groupName, userId);
    const push = pushFrame('newGroup', group, `${group.groupName} was created`, creatorName);
    // This socket joins silently; the creator's other connections join and get the push.
    ws.subscribe(groupTopic(group.groupId));
    s.pubsub.control(userId, { op: 'join', groupId: group.groupId, push });
    return group;
  },
});

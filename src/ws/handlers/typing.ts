import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { conversation, exactlyOneConversation, EXACTLY_ONE_CONVERSATION } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER, groupTopic, pushFrame, userTopic } from '../../protocol.js';

/**
 * Never stored. At most one push per user per conversation per second (TypingThrottle); a
 * throttled request is answered without a database read: in a group, this socket's
 * subscription to the group says whether the user is still a member (a leave or removal
 * unsubscribes at once), in a dialog the partner existed a second ago.
 */
export const typing = defineHandler({
  params: v.pipe(v.object(conversation), v.check(exactlyOneConversation, EXACTLY_ONE_CONVERSATION)),
  async handle({ s, ws, userId }, p) {
    if (p.groupId != null) {
      const groupId = p.groupId;
      const key = `${userId}:g${groupId}`;
      if (!s.typing.take(key)) {
        if (!ws.isSubscribed(groupTopic(groupId))) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
        return null;
      }
      const [targets] = await s.groups.typingTargets(groupId, userId);
      if (!targets) {
        s.typing.release(key);
        throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
      }
      // To each other member's own topic: the typer's other connections are not told.
      const frame = pushFrame('typing', { userId, receiverId: null, groupId }, null, targets.name);
      for (const other of targets.others) s.pubsub.publish(userTopic(other), frame);
      return null;
    }
    const receiverId = p.receiverId!;
    const key = `${userId}:u${receiverId}`;
    if (!s.typing.take(key)) return null;
    const peer = await s.users.typingPeer(userId, receiverId);
    if (!peer?.found) {
      s.typing.release(key);
      throw new ClientError(ErrorCode.NOT_FOUND, 'User not found');
    }
    // The partner's own id as receiverId (PROTOCOL.md v1.1); a note to oneself pushes nothing, nor
    // does a typing across a block (v1.2), answered all the same.
    if (receiverId !== userId && !peer.blocked) {
      s.pubsub.publish(userTopic(receiverId), pushFrame('typing', { userId, receiverId, groupId: null }, null, peer.name));
    }
    return null;
  },
});

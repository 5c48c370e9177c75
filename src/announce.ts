import { CloseCode, groupTopic, pushFrame, userTopic } from './protocol.js';
import type { PubSub } from './pubsub/types.js';
import type { Socket } from './ws/session.js';

/**
 * Membership and account events that both HTTP routes and WebSocket handlers raise.
 * The push goes first, the unsubscribe second, so the leaver's other devices still get it.
 */
export function announceLeave(
  pubsub: PubSub,
  left: { groupId: number; userId: number; name: string },
  except?: Socket,
): void {
  pubsub.publish(
    groupTopic(left.groupId),
    pushFrame('leaveGroup', { groupId: left.groupId, userId: left.userId }, `${left.name} left the group`, left.name),
    except,
  );
  pubsub.control(left.userId, { op: 'leave', groupId: left.groupId });
}

/** Closes every socket of an account whose tokens were just revoked (password change, deletion). */
export function revokeSessions(pubsub: PubSub, userId: number, reason: string): void {
  pubsub.control(userId, { op: 'close', code: CloseCode.REVOKED, reason });
}

/** Ownership passed on (the owner left): the remaining members learn who owns the group now. */
export function announceNewOwner(pubsub: PubSub, change: { groupId: number; userId: number; by: string }): void {
  pubsub.publish(
    groupTopic(change.groupId),
    pushFrame('setMemberRole', { groupId: change.groupId, userId: change.userId, role: 'owner' }, null, change.by),
  );
}

/** Where a push about a message goes: its group, or both sides of its dialog (once for a note to oneself). */
export function conversationTopics(m: { senderId: number; receiverId: number | null; groupId: number | null }): string[] {
  if (m.groupId !== null) return [groupTopic(m.groupId)];
  if (m.receiverId === null || m.receiverId === m.senderId) return [userTopic(m.senderId)];
  return [userTopic(m.senderId), userTopic(m.receiverId)];
}

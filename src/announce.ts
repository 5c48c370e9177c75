import { CloseCode, groupTopic, pushFrame } from './protocol.js';
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

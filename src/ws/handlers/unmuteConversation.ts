import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { conversation, exactlyOneConversation, EXACTLY_ONE_CONVERSATION } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER, pushFrame, userTopic } from '../../protocol.js';

/** The refusal of a mute or unmute of a conversation that is not the caller's. */
export const muteRefusal = (kind: 'not-member' | 'no-peer'): ClientError => kind === 'not-member'
  ? new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER)
  : new ClientError(ErrorCode.NOT_FOUND, 'User not found');

export const unmuteConversation = defineHandler({
  params: v.pipe(v.object(conversation), v.check(exactlyOneConversation, EXACTLY_ONE_CONVERSATION)),
  async handle({ s, ws, userId }, p) {
    const target = { receiverId: p.receiverId ?? null, groupId: p.groupId ?? null };
    const outcome = await s.mutes.unmute(userId, target);
    if (outcome.kind !== 'ok') throw muteRefusal(outcome.kind);
    const data = { ...target, muted: false, mutedUntil: null };
    s.pubsub.publish(userTopic(userId), pushFrame('unmuteConversation', data, null, outcome.name), ws);
    return data;
  },
});

import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { clientMessageId, id32, mentions, replyToId, text } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER, groupTopic, pushFrame } from '../../protocol.js';

export const messageInGroup = defineHandler({
  params: v.object({ groupId: id32('groupId'), content: text('content', 4096), clientMessageId, replyToId, mentions }),
  async handle({ s, ws, userId }, p) {
    const outcome = await s.messages.sendToGroup({
      senderId: userId, groupId: p.groupId, content: p.content, clientMessageId: p.clientMessageId ?? null,
      replyToId: p.replyToId ?? null, mentions: p.mentions && p.mentions.length > 0 ? p.mentions : null,
    });
    if (outcome.kind === 'refused') throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    if (outcome.kind === 'reply-not-found') throw new ClientError(ErrorCode.NOT_FOUND, 'The message replied to was not found in this group');
    if (outcome.kind === 'conflict') {
      throw new ClientError(ErrorCode.CONFLICT, 'clientMessageId was already used for a different message');
    }
    const { id, seq, groupId, groupName, senderId, senderName, content, createdAt, replyTo, mentions: mentioned } = outcome.message;
    if (outcome.kind === 'stored') {
      s.pubsub.publish(
        groupTopic(groupId),
        pushFrame('messageInGroup', { id, seq, groupId, groupName, senderId, content, createdAt, replyTo, mentions: mentioned }, content, senderName),
        ws,
      );
    }
    return { id, seq, groupId, senderId, content, createdAt, replyTo, mentions: mentioned };
  },
});

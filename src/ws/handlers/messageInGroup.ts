import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { attachments, clientMessageId, contentOrAttachments, CONTENT_REQUIRED, id32, mentions, replyToId, sendContent } from '../../validate.js';
import { ClientError, ErrorCode, NOT_A_MEMBER, groupTopic, pushFrame } from '../../protocol.js';
import { attachmentsOf, filesToAttach } from '../attachments.js';

export const messageInGroup = defineHandler({
  params: v.pipe(
    v.object({ groupId: id32('groupId'), content: sendContent(4096), clientMessageId, replyToId, mentions, attachments }),
    v.check(contentOrAttachments, CONTENT_REQUIRED),
  ),
  async handle({ s, ws, userId }, p) {
    const files = await filesToAttach(s, userId, p.attachments);
    const outcome = await s.messages.sendToGroup({
      senderId: userId, groupId: p.groupId, content: p.content, clientMessageId: p.clientMessageId ?? null,
      replyToId: p.replyToId ?? null, mentions: p.mentions && p.mentions.length > 0 ? p.mentions : null,
      files: files.map((f) => f.id),
    });
    if (outcome.kind === 'refused') throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    if (outcome.kind === 'reply-not-found') throw new ClientError(ErrorCode.NOT_FOUND, 'The message replied to was not found in this group');
    if (outcome.kind === 'conflict') {
      throw new ClientError(ErrorCode.CONFLICT, 'clientMessageId was already used for a different message');
    }
    const { id, seq, groupId, groupName, senderId, senderName, content, createdAt, replyTo, mentions: mentioned } = outcome.message;
    const attached = await attachmentsOf(s, outcome.kind === 'stored', id, files);
    if (outcome.kind === 'stored') {
      s.pubsub.publish(
        groupTopic(groupId),
        pushFrame('messageInGroup', { id, seq, groupId, groupName, senderId, content, createdAt, replyTo, mentions: mentioned, attachments: attached }, content, senderName),
        ws,
      );
    }
    return { id, seq, groupId, senderId, content, createdAt, replyTo, mentions: mentioned, attachments: attached };
  },
});

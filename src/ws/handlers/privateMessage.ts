import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { attachments, clientMessageId, contentOrAttachments, CONTENT_REQUIRED, id32, replyToId, sendContent } from '../../validate.js';
import { ClientError, ErrorCode, pushFrame, userTopic } from '../../protocol.js';
import { attachmentsOf, filesToAttach } from '../attachments.js';

export const privateMessage = defineHandler({
  params: v.pipe(
    v.object({ receiverId: id32('receiverId'), content: sendContent(4096), clientMessageId, replyToId, attachments }),
    v.check(contentOrAttachments, CONTENT_REQUIRED),
  ),
  async handle({ s, ws, userId }, p) {
    const files = await filesToAttach(s, userId, p.attachments);
    const outcome = await s.messages.sendPrivate({
      senderId: userId, receiverId: p.receiverId, content: p.content, clientMessageId: p.clientMessageId ?? null,
      replyToId: p.replyToId ?? null, files: files.map((f) => f.id),
    });
    if (outcome.kind === 'refused') throw new ClientError(ErrorCode.NOT_FOUND, 'User not found');
    if (outcome.kind === 'blocked') {
      throw new ClientError(ErrorCode.FORBIDDEN,
        outcome.by === 'sender' ? 'Unblock this user to message them' : 'This user does not accept your messages');
    }
    if (outcome.kind === 'reply-not-found') throw new ClientError(ErrorCode.NOT_FOUND, 'The message replied to was not found in this dialog');
    if (outcome.kind === 'conflict') {
      throw new ClientError(ErrorCode.CONFLICT, 'clientMessageId was already used for a different message');
    }
    const { id, seq, senderId, receiverId, content, createdAt, senderName, replyTo } = outcome.message;
    // Mentions are a group's: a dialog's rows always carry [].
    const data = {
      id, seq, senderId, receiverId, content, createdAt, replyTo, mentions: [],
      attachments: await attachmentsOf(s, outcome.kind === 'stored', id, files),
    };
    if (outcome.kind === 'stored') {
      const push = pushFrame('privateMessage', data, content, senderName);
      s.pubsub.publish(userTopic(receiverId), push, ws);
      // The sender's other devices; a note to oneself is one conversation, pushed once.
      if (receiverId !== senderId) s.pubsub.publish(userTopic(senderId), push, ws);
    }
    return data;
  },
});

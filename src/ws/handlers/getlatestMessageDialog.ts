import * as v from 'valibot';
import { defineHandler, toPage } from '../handler.js';
import { id32, limit, messageId, page } from '../../validate.js';

export const getlatestMessageDialog = defineHandler({
  params: v.object({
    receiverId: id32('receiverId'),
    limit,
    page,
    beforeId: v.optional(messageId('beforeId')),
    afterId: v.optional(messageId('afterId')),
  }),
  handle: ({ s, userId }, p) => s.messages.dialogHistory(userId, p.receiverId, toPage(p)),
});

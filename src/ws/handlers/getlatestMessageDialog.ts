import * as v from 'valibot';
import { defineHandler, toPage } from '../handler.js';
import { historyPaging, id32 } from '../../validate.js';

export const getlatestMessageDialog = defineHandler({
  params: v.object({ receiverId: id32('receiverId'), ...historyPaging }),
  handle: ({ s, userId }, p) => s.messages.dialogHistory(userId, p.receiverId, toPage(p)),
});

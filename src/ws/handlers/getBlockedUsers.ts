import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { limit, page } from '../../validate.js';

export const getBlockedUsers = defineHandler({
  params: v.object({ limit, page }),
  handle: ({ s, userId }, p) => s.blocks.list(userId, p.limit, (p.page - 1) * p.limit),
});

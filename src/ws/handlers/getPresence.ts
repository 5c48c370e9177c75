import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { id32 } from '../../validate.js';

export const getPresence = defineHandler({
  params: v.object({
    userIds: v.pipe(
      v.array(id32('userIds[]'), 'userIds must be an array of user ids'),
      v.minLength(1, 'userIds must hold at least 1 user id'),
      v.maxLength(100, 'userIds must hold at most 100 user ids'),
      v.check((ids) => new Set(ids).size === ids.length, 'userIds must not repeat an id'),
    ),
  }),
  async handle({ s, userId }, p) {
    // Only people who share a dialog or a group with the caller (and the caller) are shown.
    const seen = new Map((await s.presenceStore.visible(userId, p.userIds)).map((r) => [r.id, r.lastSeenAt]));
    const online = await s.presence.online([...seen.keys()]);
    return p.userIds.map((id) => {
      const on = online.has(id);
      return { userId: id, online: on, lastSeenAt: on ? null : (seen.get(id) ?? null) };
    });
  },
});

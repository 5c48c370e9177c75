import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { conversation, exactlyOneConversation, EXACTLY_ONE_CONVERSATION } from '../../validate.js';
import { pushFrame, userTopic } from '../../protocol.js';
import { muteRefusal } from './unmuteConversation.js';

const YEAR_MS = 365 * 86_400_000;

/** `until`: an ISO time in the future, at most a year away; absent or null: until unmuted. */
const until = v.nullish(v.pipe(
  v.string('until must be an ISO time'),
  v.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/, 'until must be an ISO time with a time zone (e.g. 2030-01-01T00:00:00Z)'),
  v.transform((text) => new Date(text)),
  v.check((d) => !Number.isNaN(d.getTime()), 'until must be a valid time'),
  v.check((d) => d.getTime() > Date.now(), 'until must be in the future'),
  v.check((d) => d.getTime() <= Date.now() + YEAR_MS, 'until must be within a year'),
));

export const muteConversation = defineHandler({
  params: v.pipe(v.object({ ...conversation, until }), v.check(exactlyOneConversation, EXACTLY_ONE_CONVERSATION)),
  async handle({ s, ws, userId }, p) {
    const target = { receiverId: p.receiverId ?? null, groupId: p.groupId ?? null };
    const mutedUntil = p.until ?? null;
    const outcome = await s.mutes.mute(userId, target, mutedUntil);
    if (outcome.kind !== 'ok') throw muteRefusal(outcome.kind);
    const data = { ...target, muted: true, mutedUntil: mutedUntil?.toISOString() ?? null };
    s.pubsub.publish(userTopic(userId), pushFrame('muteConversation', data, null, outcome.name), ws);
    return data;
  },
});

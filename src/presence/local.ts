import type { OnPresenceChange, Presence, PresenceChange, PresenceTimings } from './types.js';

/**
 * One node, no broker: every socket is here, so this node alone decides. A user is online from
 * its first socket until `graceMs` after its last one closed with no new one.
 */
export function createLocalPresence(timings: PresenceTimings, onChange: OnPresenceChange): Presence {
  const online = new Set<number>();
  /** Users whose last socket closed, in closing order: deadline and when it closed. */
  const grace = new Map<number, { deadline: number; closedAt: number }>();

  const sweep = (): void => {
    const now = Date.now();
    const changes: PresenceChange[] = [];
    // Insertion order is deadline order (one grace length for all; a re-close re-inserts).
    for (const [userId, g] of grace) {
      if (g.deadline > now) break;
      grace.delete(userId);
      online.delete(userId);
      changes.push({ userId, online: false, lastSeenAt: g.closedAt });
    }
    if (changes.length > 0) onChange(changes);
  };
  const timer = setInterval(sweep, timings.sweepMs);
  timer.unref();

  return {
    up(userId) {
      grace.delete(userId);
      if (online.has(userId)) return;
      online.add(userId);
      onChange([{ userId, online: true, lastSeenAt: null }]);
    },
    down(userId, at) {
      grace.delete(userId);
      grace.set(userId, { deadline: at + timings.graceMs, closedAt: at });
    },
    online: async (userIds) => new Set(userIds.filter((id) => online.has(id))),
    async close() {
      clearInterval(timer);
    },
  };
}

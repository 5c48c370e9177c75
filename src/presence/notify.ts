import type { Logger } from '../log.js';
import type { PresenceStore } from '../db/presence.js';
import type { PubSub } from '../pubsub/types.js';
import { pushFrame, userTopic } from '../protocol.js';
import type { PresenceChange } from './types.js';

/** Changes handled per step: a mass disconnect is spread over many turns of the event loop. */
const CHUNK = 1000;

/**
 * What happens on a presence change (reported once, by one node): an offline user's
 * `lastSeenAt` is stored, then each dialog partner gets a `presence` push. Changes wait in one
 * queue and are handled in arrival order, up to CHUNK at a time with two queries per chunk
 * (a burst of connections costs a few queries, not two per user), so a user's pushes keep the
 * order of its changes.
 */
export function createPresenceNotifier(deps: { store: PresenceStore; pubsub: () => PubSub; log: Logger }) {
  let queue: PresenceChange[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    try {
      while (queue.length > 0) {
        const part = queue.length > CHUNK ? queue.splice(0, CHUNK) : queue;
        if (part === queue) queue = [];
        try {
          await handle(part);
        } catch (err) {
          deps.log.warn({ err, changes: part.length }, 'presence changes not announced');
        }
      }
    } finally {
      running = false;
    }
  }

  async function handle(part: PresenceChange[]): Promise<void> {
    // The latest close per user (a user may go offline twice within one chunk).
    const seen = new Map<number, number>();
    for (const c of part) if (!c.online && c.lastSeenAt !== null) seen.set(c.userId, c.lastSeenAt);
    await deps.store.setLastSeen([...seen].map(([userId, at]) => ({ userId, at })));
    const byUser = new Map((await deps.store.partners([...new Set(part.map((c) => c.userId))])).map((p) => [p.userId, p]));
    const pubsub = deps.pubsub();
    for (const c of part) {
      const to = byUser.get(c.userId);
      if (!to || to.partnerIds.length === 0) continue;
      // A deleted account keeps no lastSeenAt (getPresence shows it as null too).
      const lastSeenAt = c.lastSeenAt === null || c.online || to.deleted ? null : new Date(c.lastSeenAt);
      // Encoded once per change, published once per partner.
      const frame = pushFrame('presence', { userId: c.userId, online: c.online, lastSeenAt }, null, to.name);
      for (const partnerId of to.partnerIds) pubsub.publish(userTopic(partnerId), frame);
    }
  }

  return (changes: PresenceChange[]): void => {
    for (const c of changes) queue.push(c);
    // Started on the next turn, so the changes of one burst of events share a chunk.
    if (!running) {
      running = true;
      setImmediate(() => void drain());
    }
  };
}

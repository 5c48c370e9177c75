import type { Logger } from '../log.js';
import type { PresenceStore } from '../db/presence.js';
import type { PubSub } from '../pubsub/types.js';
import { pushFrame, userTopic } from '../protocol.js';
import type { PresenceChange } from './types.js';

/** Changes handled per step: a mass disconnect is spread over many turns of the event loop. */
const CHUNK = 1000;

/**
 * What happens on a presence change (reported once, by one node): an offline user's
 * `lastSeenAt` is stored, then each dialog partner gets a `presence` push. Changes are handled
 * one batch after the other, so a user's pushes keep the order of its changes.
 */
export function createPresenceNotifier(deps: { store: PresenceStore; pubsub: () => PubSub; log: Logger }) {
  let chain: Promise<void> = Promise.resolve();

  async function handle(changes: PresenceChange[]): Promise<void> {
    for (let i = 0; i < changes.length; i += CHUNK) {
      const part = changes.slice(i, i + CHUNK);
      const offline = part.filter((c) => !c.online && c.lastSeenAt !== null).map((c) => ({ userId: c.userId, at: c.lastSeenAt! }));
      await deps.store.setLastSeen(offline);
      const partners = await deps.store.partners([...new Set(part.map((c) => c.userId))]);
      const byUser = new Map<number, { name: string; ids: number[] }>();
      for (const p of partners) {
        const entry = byUser.get(p.userId) ?? { name: p.name, ids: [] };
        entry.ids.push(p.partnerId);
        byUser.set(p.userId, entry);
      }
      const pubsub = deps.pubsub();
      for (const c of part) {
        const to = byUser.get(c.userId);
        if (!to) continue;
        const lastSeenAt = c.lastSeenAt === null || c.online ? null : new Date(c.lastSeenAt);
        // Encoded once per change, published once per partner.
        const frame = pushFrame('presence', { userId: c.userId, online: c.online, lastSeenAt }, null, to.name);
        for (const partnerId of to.ids) pubsub.publish(userTopic(partnerId), frame);
      }
    }
  }

  return (changes: PresenceChange[]): void => {
    chain = chain.then(() => handle(changes)).catch((err: unknown) => {
      deps.log.warn({ err, changes: changes.length }, 'presence change not announced');
    });
  };
}

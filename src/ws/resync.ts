import { CloseCode, groupTopic } from '../protocol.js';
import type { Socket } from '../pubsub/types.js';
import type { Users } from '../db/users.js';

const GROUP_PREFIX = groupTopic(0).slice(0, -1);
const CHUNK = 1000;

/**
 * Brings sockets back in line with the database: closes those whose token was revoked (4003)
 * and fixes their group subscriptions. Control events that could not reach this node (a Redis
 * outage, a socket still opening when they were sent) are repaired this way.
 */
export async function resyncSockets(users: Users, sockets: Socket[]): Promise<{ closed: number; changed: number }> {
  let closed = 0;
  let changed = 0;
  const live = sockets.filter((ws) => !ws.getUserData().closed);
  const ids = [...new Set(live.map((ws) => ws.getUserData().userId))];
  const states = new Map<number, Awaited<ReturnType<Users['socketStates']>>[number]>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    for (const st of await users.socketStates(ids.slice(i, i + CHUNK))) states.set(st.id, st);
  }
  for (const ws of live) {
    const session = ws.getUserData();
    if (session.closed) continue;
    const st = states.get(session.userId);
    if (!st || st.deleted || st.tokenVersion !== session.tokenVersion) {
      ws.end(CloseCode.REVOKED, 'Token revoked');
      closed++;
      continue;
    }
    const want = new Set(st.groupIds.map(groupTopic));
    const have = ws.getTopics().filter((t) => t.startsWith(GROUP_PREFIX));
    for (const t of have) if (!want.delete(t)) { ws.unsubscribe(t); changed++; }
    for (const t of want) { ws.subscribe(t); changed++; }
  }
  return { closed, changed };
}

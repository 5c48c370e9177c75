import { CloseCode, groupTopic } from '../protocol.js';
import type { Socket } from './session.js';
import type { SocketState, Users } from '../db/users.js';
import type { SocketRegistry } from './sessions.js';

const GROUP_PREFIX = groupTopic(0).slice(0, -1);
const CHUNK = 1000;
const ATTEMPTS = 5;

/**
 * Brings sockets back in line with the database: closes those whose token was revoked (4003)
 * and fixes their group subscriptions. Control events that could not reach this node (a Redis
 * outage, a socket still opening when they were sent) are repaired this way.
 *
 * A socket that gets a control event while its state is being read is newer than that read: it
 * is left alone and read again, so a stale answer never undoes a fresh join or leave.
 */
export async function resyncSockets(users: Users, sessions: SocketRegistry, sockets: Socket[]): Promise<{ closed: number; changed: number }> {
  let closed = 0;
  let changed = 0;
  let todo = sockets;
  const confirming: Promise<void>[] = [];
  for (let attempt = 0; attempt < ATTEMPTS && todo.length > 0; attempt++) {
    const readFrom = sessions.controlSeq;
    const live = todo.filter((ws) => !ws.getUserData().closed);
    const states = await readStates(users, [...new Set(live.map((ws) => ws.getUserData().userId))]);
    todo = [];
    for (const ws of live) {
      const session = ws.getUserData();
      if (session.closed) continue;
      if (session.lastControl > readFrom) {
        todo.push(ws);
        continue;
      }
      const st = states.get(session.userId);
      if (!st || st.deleted || st.tokenVersion !== session.tokenVersion) {
        ws.end(CloseCode.REVOKED, 'Token revoked');
        closed++;
        continue;
      }
      const want = new Set(st.groupIds.map(groupTopic));
      for (const t of ws.getTopics()) {
        if (t.startsWith(GROUP_PREFIX) && !want.delete(t)) { ws.unsubscribe(t); changed++; }
      }
      for (const t of want) {
        ws.subscribe(t);
        changed++;
        const ready = sessions.subscribed(t);
        if (ready) confirming.push(ready);
      }
    }
  }
  // Done means done: the node holds every subscription it just took (cluster mode).
  await Promise.all(confirming);
  return { closed, changed };
}

async function readStates(users: Users, ids: number[]): Promise<Map<number, SocketState>> {
  const states = new Map<number, SocketState>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    for (const st of await users.socketStates(ids.slice(i, i + CHUNK))) states.set(st.id, st);
  }
  return states;
}

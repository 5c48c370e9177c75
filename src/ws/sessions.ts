import { groupTopic } from '../protocol.js';
import type { ControlEvent } from '../pubsub/types.js';
import type { Socket } from './session.js';

/** Every open WebSocket on this node, by user: what control events act on. */
export class SocketRegistry {
  private readonly byUser = new Map<number, Set<Socket>>();
  /**
   * Counts control events applied on this node. A handshake notes it before reading the account's
   * groups; if it moved by `open`, an event may have missed the new socket, which is then re-checked.
   * (A global count, not one per user: nothing to clean up, and control events are rare.)
   */
  controlSeq = 0;

  /**
   * @param subscribed the transport's PubSub.subscribed: a join's push waits for it, so a client
   *   that has seen it is sure to get what other nodes publish to the group from then on.
   */
  constructor(readonly subscribed: (topic: string) => Promise<void> | undefined = () => undefined) {}

  add(ws: Socket): void {
    const { userId } = ws.getUserData();
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(ws);
  }

  remove(ws: Socket): void {
    const { userId } = ws.getUserData();
    const set = this.byUser.get(userId);
    if (!set) return;
    set.delete(ws);
    if (set.size === 0) this.byUser.delete(userId);
  }

  count(userId: number): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  get size(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  all(): Socket[] {
    return [...this.byUser.values()].flatMap((set) => [...set]);
  }

  forEach(visit: (ws: Socket) => void): void {
    for (const set of this.byUser.values()) for (const ws of set) visit(ws);
  }

  /** Applies a control event to this node's connections of `userId`. */
  apply(userId: number, event: ControlEvent): void {
    const seq = ++this.controlSeq;
    const set = this.byUser.get(userId);
    if (!set) return;
    for (const ws of [...set]) {
      const session = ws.getUserData();
      if (session.closed) continue;
      session.lastControl = seq;
      switch (event.op) {
        case 'join': {
          const topic = groupTopic(event.groupId);
          if (ws.isSubscribed(topic)) break;
          ws.subscribe(topic);
          if (!event.push) break;
          const push = event.push;
          const ready = this.subscribed(topic);
          if (!ready) ws.cork(() => ws.send(push));
          else void ready.then(() => { if (!ws.getUserData().closed) ws.cork(() => ws.send(push)); });
          break;
        }
        case 'leave':
          ws.unsubscribe(groupTopic(event.groupId));
          break;
        case 'close':
          ws.end(event.code, event.reason);
          break;
      }
    }
  }
}

/** The former name, kept so that code written against it still compiles. */
export { SocketRegistry as SessionRegistry };

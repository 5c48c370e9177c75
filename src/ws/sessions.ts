import { groupTopic } from '../protocol.js';
import type { ControlEvent } from '../pubsub/types.js';
import type { Socket } from './session.js';

/** Every open WebSocket on this node, by user: what control events act on. */
export class SocketRegistry {
  /**
   * A user's one socket itself, or a Set once it has several: almost every user has one, and a
   * Set per user (its hash table included) was about 150 bytes per idle connection.
   */
  private readonly byUser = new Map<number, Socket | Set<Socket>>();

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
    const held = this.byUser.get(userId);
    if (held === undefined) this.byUser.set(userId, ws);
    else if (held instanceof Set) held.add(ws);
    else if (held !== ws) this.byUser.set(userId, new Set([held, ws]));
  }

  remove(ws: Socket): void {
    const { userId } = ws.getUserData();
    const held = this.byUser.get(userId);
    if (held === ws) {
      this.byUser.delete(userId);
    } else if (held instanceof Set) {
      held.delete(ws);
      if (held.size === 0) this.byUser.delete(userId);
    }
  }

  count(userId: number): number {
    const held = this.byUser.get(userId);
    return held === undefined ? 0 : held instanceof Set ? held.size : 1;
  }

  get size(): number {
    let n = 0;
    for (const held of this.byUser.values()) n += held instanceof Set ? held.size : 1;
    return n;
  }

  all(): Socket[] {
    const sockets: Socket[] = [];
    this.forEach((ws) => sockets.push(ws));
    return sockets;
  }

  forEach(visit: (ws: Socket) => void): void {
    for (const held of this.byUser.values()) {
      if (held instanceof Set) for (const ws of held) visit(ws);
      else visit(held);
    }
  }

  /** This node's sockets of `userId` (a copy: visiting may close some). */
  of(userId: number): Socket[] {
    const held = this.byUser.get(userId);
    return held === undefined ? [] : held instanceof Set ? [...held] : [held];
  }

  /** Applies a control event to this node's connections of `userId`. */
  apply(userId: number, event: ControlEvent): void {
    const seq = ++this.controlSeq;
    for (const ws of this.of(userId)) {
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

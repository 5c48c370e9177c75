import type { WebSocket } from 'uWebSockets.js';
import type { Session } from '../ws/session.js';

export type Socket = WebSocket<Session>;

/** Acts on every open connection of one user, wherever it is connected. */
export type ControlEvent =
  /** Subscribe to a group; `push` is delivered to connections that were not subscribed yet. */
  | { op: 'join'; groupId: number; push?: string }
  | { op: 'leave'; groupId: number }
  | { op: 'close'; code: number; reason: string };

/**
 * The one way handlers reach other connections. The local implementation fans out through
 * uWS topics; the cluster one also relays through Redis to the other nodes.
 */
export interface PubSub {
  /** Delivers an encoded push to every subscriber of `topic`, except the connection `except`. */
  publish(topic: string, frame: string, except?: Socket): void;
  /** Applies `event` to every connection of `userId` (on every node). */
  control(userId: number, event: ControlEvent): void;
  /**
   * Called by uWS on every subscription change on this node (socket close included), with the
   * topic's local subscriber count after and before; the cluster relay acts on 0→1 and 1→0.
   */
  onLocalSubscription(topic: string, newCount: number, oldCount: number): void;
  /** False while the cluster relay is down (always true for the local one). */
  readonly connected: boolean;
  close(): Promise<void>;
}

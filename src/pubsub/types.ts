import type { WebSocket } from 'uWebSockets.js';

/**
 * The connection a publication skips. The transport needs nothing of a socket but this, so it
 * does not know the WebSocket layer's session type (pubsub stays a leaf of the import graph).
 */
export type Publisher = WebSocket<{ closed: boolean }>;

/** Acts on every open connection of one user, wherever it is connected. */
export type ControlEvent =
  /** Subscribe to a group; `push` is delivered to connections that were not subscribed yet. */
  | { op: 'join'; groupId: number; push?: string }
  | { op: 'leave'; groupId: number }
  | { op: 'close'; code: number; reason: string };

/** What the composition root hands a transport: how to reach this node's sockets. */
export interface PubSubHooks {
  /** Applies a control event to this node's connections of `userId` (local or relayed). */
  deliverControl(userId: number, event: ControlEvent): void;
  /** Told of every push this node publishes (metrics count them). */
  onPublish?(frame: string): void;
}

/**
 * The one way handlers reach other connections. The local implementation fans out through
 * uWS topics; the cluster one also relays through Redis to the other nodes.
 */
export interface PubSub {
  /** Delivers an encoded push to every subscriber of `topic`, except the connection `except`. */
  publish(topic: string, frame: string, except?: Publisher): void;
  /** Applies `event` to every connection of `userId` (on every node). */
  control(userId: number, event: ControlEvent): void;
  /**
   * Called by uWS on every subscription change on this node (socket close included), with the
   * topic's local subscriber count after and before; the cluster relay acts on 0→1 and 1→0.
   */
  onLocalSubscription(topic: string, newCount: number, oldCount: number): void;
  /**
   * Resolves once this node receives what other nodes publish to `topic` (the cluster relay's
   * subscription is confirmed); undefined when nothing is pending (always, for the local one).
   * A join's push waits for it, so a client that has seen it gets every later publication.
   */
  subscribed(topic: string): Promise<void> | undefined;
  /** False while the cluster relay is down (always true for the local one). */
  readonly connected: boolean;
  /** Pushes and control events that could not be relayed to other nodes, since start. */
  readonly dropped: number;
  close(): Promise<void>;
}

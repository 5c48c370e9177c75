import type { TemplatedApp } from 'uWebSockets.js';
import type { SessionRegistry } from '../ws/sessions.js';
import type { ControlEvent, PubSub, Socket } from './types.js';

/** Fans a push out to this node's subscribers: encoded once, copied to sockets by uWS. */
export function localPublish(app: TemplatedApp, topic: string, frame: string, except?: Socket): void {
  // ws.publish skips the publishing socket itself: that is the "never to the sender" rule.
  if (except && !except.getUserData().closed) except.publish(topic, frame);
  else app.publish(topic, frame);
}

/** One node, no broker. */
export function createLocalPubSub(app: TemplatedApp, sessions: SessionRegistry): PubSub {
  return {
    publish: (topic, frame, except) => localPublish(app, topic, frame, except),
    control: (userId: number, event: ControlEvent) => sessions.apply(userId, event),
    onLocalSubscription: () => undefined,
    connected: true,
    close: async () => undefined,
  };
}

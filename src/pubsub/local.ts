import type { TemplatedApp } from 'uWebSockets.js';
import type { PubSub, PubSubHooks, Publisher } from './types.js';

/** Fans a push out to this node's subscribers: encoded once, copied to sockets by uWS. */
export function localPublish(app: TemplatedApp, topic: string, frame: string, except?: Publisher): void {
  // ws.publish skips the publishing socket itself: that is the "never to the sender" rule.
  if (except && !except.getUserData().closed) except.publish(topic, frame);
  else app.publish(topic, frame);
}

/** One node, no broker. */
export function createLocalPubSub(app: TemplatedApp, hooks: PubSubHooks): PubSub {
  return {
    publish(topic, frame, except) {
      hooks.onPublish?.(frame);
      localPublish(app, topic, frame, except);
    },
    control(userId, event) {
      if (event.op === 'join' && event.push) hooks.onPublish?.(event.push);
      hooks.deliverControl(userId, event);
    },
    onLocalSubscription: () => undefined,
    subscribed: () => undefined,
    connected: true,
    dropped: 0,
    close: async () => undefined,
  };
}

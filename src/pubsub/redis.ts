import { Redis } from 'ioredis';
import type { PubSub } from './types.js';
import { startRelay, type BrokerLink, type RelayCore, type RelayOptions } from './relay-core.js';
import { relayConnectionOptions, shutConnection } from './redis-options.js';

/*
 * Cluster transport over one Redis, classic pub/sub (PUBLISH/SUBSCRIBE); what it shares with the
 * Redis Cluster transport is in relay-core.ts.
 *
 * Order: one publisher connection per node and one subscriber connection per node, so Redis
 * hands a node's relays to every other node in the order they were published.
 */

/** Channels per SUBSCRIBE command when resubscribing everything after a reconnect. */
const RESUBSCRIBE_BATCH = 1_000;

export interface RedisPubSubOptions extends RelayOptions {
  url: string;
}

export function createRedisPubSub(opts: RedisPubSubOptions): Promise<PubSub> {
  return startRelay(opts, 'cluster-relay', (core) => singleRedisLink(opts.url, core));
}

function singleRedisLink(url: string, core: RelayCore): BrokerLink {
  const { log } = core;
  const pub = new Redis(url, { ...relayConnectionOptions, connectionName: `relay-pub-${core.nodeId}` });
  const sub = new Redis(url, { ...relayConnectionOptions, connectionName: `relay-sub-${core.nodeId}` });
  let pubReady = false;
  let subReady = false;
  // Bumped when the subscriber closes or opens: a resubscription for an older connection stops.
  let subGeneration = 0;
  const update = (): void => core.setUp(pubReady && subReady);

  for (const [name, conn] of [['publisher', pub], ['subscriber', sub]] as const) {
    conn.on('error', (err: Error) => {
      core.noteError(err.message);
      log.debug({ err, connection: name }, 'redis connection error');
    });
  }
  pub.on('ready', () => {
    pubReady = true;
    update();
  });
  pub.on('close', () => {
    // In-flight relays are rejected (maxRetriesPerRequest: 0), each counted as dropped; they are
    // never sent again.
    pubReady = false;
    update();
  });
  sub.on('ready', () => void resubscribe(++subGeneration));
  sub.on('close', () => {
    subGeneration++;
    subReady = false;
    update();
  });
  sub.on('messageBuffer', (channel: Buffer, message: Buffer) => core.receive(channel, message));

  /** A fresh connection has no subscriptions: subscribe to every channel this node needs now. */
  async function resubscribe(generation: number): Promise<void> {
    const channels = core.wanted();
    try {
      for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) {
        await sub.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH));
        if (generation !== subGeneration) return;
      }
    } catch (err) {
      // The connection broke meanwhile (the next 'ready' starts over), or Redis refused (ACL).
      if (generation === subGeneration && sub.status === 'ready') log.error({ err }, 'cluster relay could not subscribe');
      else log.debug({ err }, 'resubscribe interrupted');
      return;
    }
    if (generation !== subGeneration) return;
    subReady = true;
    update();
  }

  return {
    publish: (channel, payload) => (pub.status === 'ready' ? pub.publish(channel, payload) : undefined),
    subscribe(channel, on) {
      if (sub.status !== 'ready') return undefined;
      return on ? sub.subscribe(channel) : sub.unsubscribe(channel);
    },
    heartbeat() {
      for (const conn of [pub, sub]) if (conn.status === 'ready') conn.ping().catch(() => undefined);
    },
    close: async () => { await Promise.all([shutConnection(pub), shutConnection(sub)]); },
  };
}

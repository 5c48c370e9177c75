import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../log.js';
import { userTopic } from '../protocol.js';
import { localPublish } from './local.js';
import { decodeRelayed, encodeControl, encodePush, NODE_ID_LENGTH, relayHeaders } from './relay-codec.js';
import type { PubSub, PubSubHooks } from './types.js';

/*
 * Cluster transport. Each node delivers its own publishes to its own sockets at once (so the
 * sender's exclusion works), and relays them once through Redis to the other nodes.
 *
 * Wire format: relay-codec.ts. A node drops messages that carry its own id: it applied them
 * before relaying.
 *
 * Order: one publisher connection per node and one subscriber connection per node, so Redis
 * hands a node's relays to every other node in the order they were published.
 *
 * Subscriptions: `topics` is the set of topics with at least one local subscriber, kept by
 * uWS's subscription handler (0→1 subscribe, →0 unsubscribe). It is the truth: after every
 * (re)connect the whole set is subscribed again. ioredis's own auto-resubscribe is off: it
 * replays only the channels acknowledged before the drop, and changes made during the
 * outage would have to wait in an offline queue that maxRetriesPerRequest flushes.
 */

/** Relays waiting for Redis's answer past which new ones are dropped: memory stays bounded. */
const MAX_PENDING_RELAYS = 10_000;
/** Channels per SUBSCRIBE command when resubscribing everything after a reconnect. */
const RESUBSCRIBE_BATCH = 1_000;
/** A PING on each connection this often; with SOCKET_TIMEOUT_MS, a silent Redis is noticed. */
const HEARTBEAT_MS = 2_000;
/** A connection with a command unanswered this long is torn down and reconnected. */
const SOCKET_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 3_000;
/** How long start-up waits for Redis before going on (then /ready says 503 until it comes). */
const STARTUP_WAIT_MS = 5_000;
const QUIT_TIMEOUT_MS = 1_000;

export interface RedisPubSubOptions extends PubSubHooks {
  app: TemplatedApp;
  url: string;
  prefix: string;
  log: Logger;
  /** Called when the relay comes back after an outage. */
  onRecovered?: () => void;
}

export async function createRedisPubSub(opts: RedisPubSubOptions): Promise<PubSub> {
  const { app, prefix, log } = opts;
  const nodeId = randomBytes(NODE_ID_LENGTH / 2).toString('hex');
  const nodeIdBytes = Buffer.from(nodeId, 'latin1');
  const headers = relayHeaders(nodeId);
  const rlog = log.child({ component: 'cluster-relay', nodeId });
  let dropped = 0;

  const common: RedisOptions = {
    // Reconnect for ever, quickly: 100 ms, 200 ms, ... at most 1 s apart.
    retryStrategy: (times) => Math.min(times * 100, 1_000),
    connectTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // Nothing waits for Redis: a command that cannot be written now fails now.
    enableOfflineQueue: false,
    // A command in flight when the connection broke may have been executed: never send it again
    // (a resent PUBLISH would be a duplicate push).
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    maxRetriesPerRequest: 0,
  };
  const pub = new Redis(opts.url, { ...common, connectionName: `relay-pub-${nodeId}` });
  const sub = new Redis(opts.url, { ...common, connectionName: `relay-sub-${nodeId}` });

  /** Topics with at least one local subscriber. */
  const topics = new Set<string>();
  let closing = false;
  let connected = false;
  let everConnected = false;
  let downSince = Date.now();
  let droppedWhileDown = 0;
  let lastError: string | undefined;
  let pubReady = false;
  let subReady = false;
  // Bumped when a connection closes (and, for the subscriber, opens): answers that arrive for an
  // older connection are ignored.
  let pubGeneration = 0;
  let subGeneration = 0;
  let pending = 0;
  let onFirstUp: (() => void) | undefined;

  function update(): void {
    const now = pubReady && subReady && !closing;
    if (now === connected) return;
    connected = now;
    if (closing) return;
    if (now) {
      if (everConnected) {
        rlog.warn({ downMs: Date.now() - downSince, dropped: droppedWhileDown, topics: topics.size }, 'cluster relay recovered');
        // Control events sent meanwhile (revocations, joins, leaves) never reached us: re-check.
        opts.onRecovered?.();
      } else {
        rlog.info({ topics: topics.size }, 'cluster relay connected');
      }
      everConnected = true;
      droppedWhileDown = 0;
      lastError = undefined;
      onFirstUp?.();
    } else {
      downSince = Date.now();
      rlog.warn({ err: lastError }, 'cluster relay down: pushes to other nodes are lost until it recovers');
    }
  }

  function drop(): void {
    dropped++;
    droppedWhileDown++;
  }

  for (const [name, conn] of [['publisher', pub], ['subscriber', sub]] as const) {
    conn.on('error', (err: Error) => {
      lastError = err.message;
      rlog.debug({ err, connection: name }, 'redis connection error');
    });
  }

  pub.on('ready', () => {
    pubReady = true;
    update();
  });
  pub.on('close', () => {
    // In-flight relays are rejected (maxRetriesPerRequest: 0), each counted as dropped; they are
    // never sent again. Answers from this connection no longer count against the new one.
    pubGeneration++;
    pending = 0;
    pubReady = false;
    update();
  });

  sub.on('ready', () => {
    const generation = ++subGeneration;
    void resubscribe(generation);
  });
  sub.on('close', () => {
    subGeneration++;
    subReady = false;
    update();
  });

  /** A fresh connection has no subscriptions: subscribe to every topic this node needs now. */
  async function resubscribe(generation: number): Promise<void> {
    const channels = [...topics].map((t) => prefix + t);
    try {
      for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) {
        await sub.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH));
        if (generation !== subGeneration) return;
      }
    } catch (err) {
      // The connection broke meanwhile (the next 'ready' starts over), or Redis refused (ACL).
      if (generation === subGeneration && sub.status === 'ready') rlog.error({ err }, 'cluster relay could not subscribe');
      else rlog.debug({ err }, 'resubscribe interrupted');
      return;
    }
    if (generation !== subGeneration) return;
    subReady = true;
    update();
  }

  sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    if (closing) return;
    try {
      const m = decodeRelayed(channel, message, prefix, nodeIdBytes);
      // uWS copies the bytes before returning: a view into ioredis's buffer is enough.
      if (m.kind === 'push') app.publish(m.topic, m.frame, false);
      else if (m.kind === 'control') opts.deliverControl(m.userId, m.event);
      else if (m.kind === 'malformed') rlog.warn({ topic: m.topic }, 'malformed control event ignored');
    } catch (err) {
      rlog.error({ err }, 'relayed message failed');
    }
  });

  function relay(topic: string, payload: string): void {
    if (closing) return;
    if (pub.status !== 'ready' || pending >= MAX_PENDING_RELAYS) return drop();
    const generation = pubGeneration;
    pending++;
    const settled = (): void => { if (generation === pubGeneration) pending--; };
    pub.publish(prefix + topic, payload).then(settled, (err: unknown) => {
      settled();
      drop();
      rlog.debug({ err }, 'relay failed');
    });
  }

  /** Subscriptions sent to Redis and not confirmed yet (see PubSub.subscribed). */
  const confirming = new Map<string, Promise<void>>();

  function subscribeChannel(topic: string, on: boolean): void {
    // Not ready: the resubscribe after the next 'ready' reads `topics` and catches up.
    if (closing || sub.status !== 'ready') return;
    const channel = prefix + topic;
    const done = (on ? sub.subscribe(channel) : sub.unsubscribe(channel)).then(
      () => undefined,
      (err: unknown) => rlog.debug({ err, topic, on }, 'subscription change failed'),
    );
    if (!on) return;
    const settled = done.finally(() => { if (confirming.get(topic) === settled) confirming.delete(topic); });
    confirming.set(topic, settled);
  }

  const heartbeat = setInterval(() => {
    for (const conn of [pub, sub]) if (conn.status === 'ready') conn.ping().catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();

  // Start-up waits a little for Redis, but a node without it still serves (and says so on /ready).
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      onFirstUp = undefined;
      rlog.warn({ err: lastError }, 'cluster relay not reachable yet; starting without it');
      resolve();
    }, STARTUP_WAIT_MS);
    timer.unref();
    onFirstUp = () => { clearTimeout(timer); onFirstUp = undefined; resolve(); };
  });

  async function shut(conn: Redis): Promise<void> {
    try {
      if (conn.status === 'ready') {
        await Promise.race([conn.quit(), new Promise((r) => setTimeout(r, QUIT_TIMEOUT_MS).unref())]);
      }
    } catch {
      // Already gone.
    } finally {
      conn.disconnect();
    }
  }

  return {
    publish(topic, frame, except) {
      opts.onPublish?.(frame);
      localPublish(app, topic, frame, except);
      relay(topic, encodePush(headers, frame));
    },
    control(userId, event) {
      if (event.op === 'join' && event.push) opts.onPublish?.(event.push);
      opts.deliverControl(userId, event);
      relay(userTopic(userId), encodeControl(headers, event));
    },
    onLocalSubscription(topic, newCount, oldCount) {
      if (oldCount === 0 && newCount > 0) {
        topics.add(topic);
        subscribeChannel(topic, true);
      } else if (newCount === 0 && oldCount > 0) {
        topics.delete(topic);
        subscribeChannel(topic, false);
      }
    },
    subscribed: (topic) => confirming.get(topic),
    get connected() {
      return connected;
    },
    get dropped() {
      return dropped;
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(heartbeat);
      update();
      await Promise.all([shut(pub), shut(sub)]);
    },
  };
}

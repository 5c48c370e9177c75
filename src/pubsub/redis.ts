import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { Counter } from 'prom-client';
import type { TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { SessionRegistry } from '../ws/sessions.js';
import { userTopic } from '../protocol.js';
import { localPublish } from './local.js';
import type { ControlEvent, PubSub } from './types.js';

/*
 * Cluster transport. Each node delivers its own publishes to its own sockets at once (so the
 * sender's exclusion works), and relays them once through Redis to the other nodes.
 *
 * Wire format of a relayed message, on channel `${prefix}${topic}`:
 *   "1" (format version) + node id (16 hex characters) + kind ("p" or "c") + payload
 * kind "p": the payload is the encoded push frame, handed to uWS as it is (no re-encoding);
 * kind "c": the payload is a JSON ControlEvent, on the topic `u:<id>` of the user it acts on
 *           (every node with a connection of that user is subscribed to that topic).
 * A node drops messages that carry its own id: it applied them before relaying.
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

const FORMAT = '1';
const NODE_ID_LENGTH = 16;
const HEADER_LENGTH = 1 + NODE_ID_LENGTH + 1;
const KIND_PUSH = 'p';
const KIND_CONTROL = 'c';
const KIND_OFFSET = 1 + NODE_ID_LENGTH;

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

const USER_TOPIC = /^u:(\d{1,10})$/;

export interface RedisPubSubOptions {
  app: TemplatedApp;
  sessions: SessionRegistry;
  url: string;
  prefix: string;
  log: Logger;
  metrics: Metrics;
  /** Called when the relay comes back after an outage. */
  onRecovered?: () => void;
}

/** Reads a control event relayed by another node; anything malformed is refused. */
export function parseControl(text: string): ControlEvent | undefined {
  let e: unknown;
  try {
    e = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof e !== 'object' || e === null) return undefined;
  const o = e as Record<string, unknown>;
  const groupId = Number.isSafeInteger(o.groupId) ? (o.groupId as number) : undefined;
  switch (o.op) {
    case 'join':
      if (groupId === undefined || (o.push !== undefined && typeof o.push !== 'string')) return undefined;
      return o.push === undefined ? { op: 'join', groupId } : { op: 'join', groupId, push: o.push as string };
    case 'leave':
      return groupId === undefined ? undefined : { op: 'leave', groupId };
    case 'close':
      if (!Number.isInteger(o.code) || typeof o.reason !== 'string') return undefined;
      return { op: 'close', code: o.code as number, reason: o.reason };
    default:
      return undefined;
  }
}

export async function createRedisPubSub(opts: RedisPubSubOptions): Promise<PubSub> {
  const { app, sessions, prefix, log, metrics } = opts;
  const nodeId = randomBytes(NODE_ID_LENGTH / 2).toString('hex');
  const nodeIdBytes = Buffer.from(nodeId, 'latin1');
  const pushHeader = FORMAT + nodeId + KIND_PUSH;
  const controlHeader = FORMAT + nodeId + KIND_CONTROL;
  const rlog = log.child({ component: 'cluster-relay', nodeId });

  const dropped = new Counter({
    name: 'relay_cluster_relays_dropped_total',
    help: 'Pushes and control events not relayed to other nodes (Redis down or too far behind)',
    registers: [metrics.registry],
  });

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

  metrics.relayConnected.set(0);

  function update(): void {
    const now = pubReady && subReady && !closing;
    if (now === connected) return;
    connected = now;
    metrics.relayConnected.set(now ? 1 : 0);
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
    dropped.inc();
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
      if (message.length < HEADER_LENGTH || message[0] !== FORMAT.charCodeAt(0)) return;
      // Our own relay: it was delivered (or applied) here before it was sent.
      if (message.compare(nodeIdBytes, 0, NODE_ID_LENGTH, 1, 1 + NODE_ID_LENGTH) === 0) return;
      const name = channel.toString('latin1');
      if (!name.startsWith(prefix)) return;
      const topic = name.slice(prefix.length);
      const kind = String.fromCharCode(message[KIND_OFFSET]!);
      if (kind === KIND_PUSH) {
        // uWS copies the bytes before returning: a view into ioredis's buffer is enough.
        app.publish(topic, message.subarray(HEADER_LENGTH), false);
      } else if (kind === KIND_CONTROL) {
        const user = USER_TOPIC.exec(topic);
        const event = parseControl(message.toString('utf8', HEADER_LENGTH));
        if (user && event) sessions.apply(Number(user[1]), event);
        else rlog.warn({ topic }, 'malformed control event ignored');
      }
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

  /** Subscriptions sent to Redis and not confirmed yet (see SessionRegistry.subscribed). */
  const confirming = new Map<string, Promise<void>>();
  sessions.subscribed = (topic) => confirming.get(topic);

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
      localPublish(app, topic, frame, except);
      relay(topic, pushHeader + frame);
    },
    control(userId, event) {
      sessions.apply(userId, event);
      relay(userTopic(userId), controlHeader + JSON.stringify(event));
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
    get connected() {
      return connected;
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

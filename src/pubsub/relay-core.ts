import { randomBytes } from 'node:crypto';
import type { TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../log.js';
import { userTopic } from '../protocol.js';
import { localPublish } from './local.js';
import { decodeRelayed, encodeControl, encodePush, NODE_ID_LENGTH, relayHeaders } from './relay-codec.js';
import type { PubSub, PubSubHooks } from './types.js';

/*
 * What every Redis transport (one Redis: redis.ts; a Redis Cluster: redis-cluster.ts) does the
 * same way. Each node delivers its own publishes to its own sockets at once (so the sender's
 * exclusion works) and relays them once through the broker to the other nodes; it drops what
 * carries its own id (relay-codec.ts). The broker links below only move bytes and say whether
 * they are up.
 *
 * Subscriptions: `topics` is the set of topics with at least one local subscriber, kept by uWS's
 * subscription handler (0→1 subscribe, →0 unsubscribe). It is the truth: a link that (re)connects
 * subscribes to every channel of it again, never to what it remembers having had.
 */

/** Relays waiting for the broker's answer past which new ones are dropped: memory stays bounded. */
const MAX_PENDING_RELAYS = 10_000;
/** How long start-up waits for the broker before going on (then /ready says 503 until it comes). */
const STARTUP_WAIT_MS = 5_000;

/** What a broker link offers the core. */
export interface BrokerLink {
  /**
   * Sends one relay, never resent (a resent PUBLISH would be a duplicate push); settles when the
   * broker answered. undefined when it cannot be sent now (counted as dropped).
   */
  publish(channel: string, payload: string): Promise<unknown> | undefined;
  /**
   * Subscribes to (or leaves) `channel` now; the promise settles when the broker confirmed.
   * undefined when the link is not up: it subscribes to every wanted channel when it comes back.
   */
  subscribe(channel: string, on: boolean): Promise<unknown> | undefined;
  /** A PING on each connection, so that a silent broker is noticed (socket timeout). */
  heartbeat(): void;
  close(): Promise<void>;
}

/** What the core offers a broker link. */
export interface RelayCore {
  readonly nodeId: string;
  readonly log: Logger;
  readonly prefix: string;
  /** The channels this node needs now (prefix + topic). */
  wanted(): string[];
  /** How many channels `wanted()` holds. */
  wantedSize(): number;
  /** A message received on `channel` (from any connection of the link). */
  receive(channel: Buffer, message: Buffer): void;
  /** The link is up (can publish, and holds every wanted channel) or down; `err` says why. */
  setUp(up: boolean, err?: string): void;
  /** The last connection error seen, for the "down" log line. */
  noteError(err: string): void;
  readonly closing: boolean;
}

export interface RelayOptions extends PubSubHooks {
  app: TemplatedApp;
  prefix: string;
  log: Logger;
  /** Called when the relay comes back after an outage. */
  onRecovered?: () => void;
}

/** A PING on each connection this often; with the socket timeout, a silent broker is noticed. */
export const HEARTBEAT_MS = 2_000;

/** Starts a relay on the link `connect` builds, and waits up to STARTUP_WAIT_MS for it to come up. */
export async function startRelay(opts: RelayOptions, component: string, connect: (core: RelayCore) => BrokerLink): Promise<PubSub> {
  const { app, prefix } = opts;
  const nodeId = randomBytes(NODE_ID_LENGTH / 2).toString('hex');
  const nodeIdBytes = Buffer.from(nodeId, 'latin1');
  const headers = relayHeaders(nodeId);
  const rlog = opts.log.child({ component, nodeId });
  const topics = new Set<string>();
  let dropped = 0;
  let droppedWhileDown = 0;
  let closing = false;
  let connected = false;
  let everConnected = false;
  let downSince = Date.now();
  let lastError: string | undefined;
  let pending = 0;
  let onFirstUp: (() => void) | undefined;

  const drop = (): void => {
    dropped++;
    droppedWhileDown++;
  };

  const core: RelayCore = {
    nodeId,
    log: rlog,
    prefix,
    wanted: () => [...topics].map((t) => prefix + t),
    wantedSize: () => topics.size,
    receive(channel, message) {
      if (closing) return;
      try {
        const m = decodeRelayed(channel, message, prefix, nodeIdBytes);
        // uWS copies the bytes before returning: a view into the client's buffer is enough.
        if (m.kind === 'push') app.publish(m.topic, m.frame, false);
        else if (m.kind === 'control') opts.deliverControl(m.userId, m.event);
        else if (m.kind === 'malformed') rlog.warn({ topic: m.topic }, 'malformed control event ignored');
      } catch (err) {
        rlog.error({ err }, 'relayed message failed');
      }
    },
    setUp(up, err) {
      if (err) lastError = err;
      const now = up && !closing;
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
    },
    noteError(err) {
      lastError = err;
    },
    get closing() {
      return closing;
    },
  };
  const link = connect(core);

  /** Relays `payload`; the promise settles (never rejects) once the broker answered. */
  function relay(topic: string, payload: string): Promise<void> | undefined {
    if (closing) return undefined;
    if (pending >= MAX_PENDING_RELAYS) return void drop();
    const sent = link.publish(prefix + topic, payload);
    if (!sent) return void drop();
    pending++;
    return sent.then(() => { pending--; }, (err: unknown) => {
      pending--;
      drop();
      rlog.debug({ err }, 'relay failed');
    });
  }

  // Sharded pub/sub keeps order only within one channel: a control event relayed at once on a
  // user's channel could reach another node before a push published just before it on a group's
  // channel (a removal push would then miss the removed user's sockets there). So a control
  // event leaves only once every push published before it was answered by its shard (which has
  // by then handed it to the subscribers), and control events leave in the order they came.
  const pushesInFlight = new Set<Promise<void>>();
  let controls: Promise<unknown> = Promise.resolve();
  let controlsWaiting = 0;

  /** Subscriptions sent to the broker and not confirmed yet (see PubSub.subscribed). */
  const confirming = new Map<string, Promise<void>>();

  function subscribeChannel(topic: string, on: boolean): void {
    if (closing) return;
    const sent = link.subscribe(prefix + topic, on);
    // Not up: the link subscribes to `wanted()` when it comes back.
    if (!sent) return;
    const done = sent.then(
      () => undefined,
      (err: unknown) => rlog.debug({ err, topic, on }, 'subscription change failed'),
    );
    if (!on) return;
    const settled = done.finally(() => { if (confirming.get(topic) === settled) confirming.delete(topic); });
    confirming.set(topic, settled);
  }

  const heartbeat = setInterval(() => link.heartbeat(), HEARTBEAT_MS);
  heartbeat.unref();

  // Start-up waits a little for the broker, but a node without it still serves (and says so on /ready).
  if (!connected) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        onFirstUp = undefined;
        rlog.warn({ err: lastError }, 'cluster relay not reachable yet; starting without it');
        resolve();
      }, STARTUP_WAIT_MS);
      timer.unref();
      onFirstUp = () => { clearTimeout(timer); onFirstUp = undefined; resolve(); };
    });
  }

  return {
    publish(topic, frame, except) {
      opts.onPublish?.(frame);
      localPublish(app, topic, frame, except);
      const sent = relay(topic, encodePush(headers, frame));
      if (sent) {
        pushesInFlight.add(sent);
        void sent.then(() => pushesInFlight.delete(sent));
      }
    },
    control(userId, event) {
      if (event.op === 'join' && event.push) opts.onPublish?.(event.push);
      opts.deliverControl(userId, event);
      const payload = encodeControl(headers, event);
      if (pushesInFlight.size === 0 && controlsWaiting === 0) {
        relay(userTopic(userId), payload);
        return;
      }
      controlsWaiting++;
      controls = Promise.all([controls, ...pushesInFlight]).then(() => {
        controlsWaiting--;
        relay(userTopic(userId), payload);
      });
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
      core.setUp(false);
      await link.close();
    },
  };
}

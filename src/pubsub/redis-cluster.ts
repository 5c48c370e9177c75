import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import type { RedisClusterSeeds } from '../config.js';
import type { PubSub } from './types.js';
import { startRelay, type BrokerLink, type RelayCore, type RelayOptions } from './relay-core.js';
import { relayConnectionOptions, shutConnection, SOCKET_TIMEOUT_MS } from './redis-options.js';
import { keySlot, SLOTS } from './slot.js';

/*
 * Cluster transport over a Redis Cluster, with sharded pub/sub (SPUBLISH / SSUBSCRIBE, Redis 7):
 * a channel lives on the shard that owns its slot, so shards add pub/sub capacity (a classic
 * PUBLISH is broadcast to every shard over the cluster bus). What it shares with the one-Redis
 * transport is in relay-core.ts.
 *
 * Publishing: one ioredis Cluster client; SPUBLISH goes to the master of the channel's slot
 * (MOVED and ASK redirections are followed: the command was not executed). A command whose
 * connection closed is never resent (retryDelayOnFailover: 0), as in redis.ts.
 *
 * Subscribing: one subscriber connection per master, ours rather than ioredis' shardedSubscribers,
 * because we must know when each subscription holds (PubSub.subscribed) and when a shard's are
 * lost, and ioredis 5.11 swallows both (its resubscribe after a topology change is fire and
 * forget; an SSUBSCRIBE answered MOVED never settles). Each channel is assigned to the master that
 * owns its slot in the cluster client's slot map. When that map changes (a failover promotes a
 * replica; a slot is migrated), channels move to their new owner, and a shard that lost channels
 * is reconnected: Redis itself drops (SUNSUBSCRIBE) the subscriptions of a slot that leaves a node,
 * a reply ioredis does not expect, so a fresh connection holding exactly what the shard owns is
 * the one state we can be sure of. The relay counts as down until every wanted channel is held on
 * its owner again; on recovery the core re-checks the sockets (control events may have been lost).
 *
 * Order: one publisher connection per shard and one subscriber connection per shard: relays of
 * one node on one channel reach every other node in the order they were published.
 */

/** The slot map is read this often (besides after MOVED, and when a subscriber connection closes). */
const SLOTS_REFRESH_MS = 1_000;
/** SSUBSCRIBE takes channels of one slot; commands sent at once when resubscribing a shard. */
const RESUBSCRIBE_BATCH = 1_000;

export interface RedisClusterPubSubOptions extends RelayOptions {
  seeds: RedisClusterSeeds;
}

export function createRedisClusterPubSub(opts: RedisClusterPubSubOptions): Promise<PubSub> {
  return startRelay(opts, 'cluster-relay', (core) => clusterLink(opts.seeds, core));
}

/** The credentials and TLS of the seed list, for every connection to a cluster node. */
export function nodeAuth(seeds: RedisClusterSeeds): { username?: string; password?: string; tls?: object } {
  return {
    ...(seeds.username ? { username: seeds.username } : {}),
    ...(seeds.password ? { password: seeds.password } : {}),
    ...(seeds.tls ? { tls: {} } : {}),
  };
}

/** A Cluster client on the seed nodes: `options` on top of the credentials and TLS of the seeds. */
export function createClusterClient(seeds: RedisClusterSeeds, options: ClusterOptions): Cluster {
  return new Cluster(seeds.nodes, { ...options, redisOptions: { ...nodeAuth(seeds), ...options.redisOptions } });
}

interface Shard {
  /** "host:port" of the master, as in the cluster client's slot map. */
  key: string;
  conn: Redis;
  /** Connected and holding every channel of `channels`. */
  up: boolean;
  /** Bumped when the connection closes or opens: a resubscription for an older one stops. */
  generation: number;
  /** The wanted channels whose slot this master owns. */
  channels: Set<string>;
}

function clusterLink(seeds: RedisClusterSeeds, core: RelayCore): BrokerLink {
  const { log } = core;
  const auth = nodeAuth(seeds);
  const cluster = createClusterClient(seeds, {
    // ioredis opens a master's connection at its first command; a command sent while it connects
    // waits for it (bounded by MAX_PENDING_RELAYS) instead of failing. Nothing is sent while the
    // cluster itself is not ready (`publish` below), so no queue builds up during an outage.
    enableOfflineQueue: true,
    // A command whose connection closed may have been executed: never resent (duplicate pushes).
    retryDelayOnFailover: 0,
    slotsRefreshInterval: SLOTS_REFRESH_MS,
    clusterRetryStrategy: (times) => Math.min(times * 100, 1_000),
    redisOptions: {
      connectTimeout: relayConnectionOptions.connectTimeout!,
      socketTimeout: SOCKET_TIMEOUT_MS,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectionName: `relay-pub-${core.nodeId}`,
    },
  });
  const shards = new Map<string, Shard>();
  /** Each wanted channel that has an owner: the shard it is (being) subscribed on. */
  const assigned = new Map<string, Shard>();
  let mapSignature = '';
  let closing = false;

  cluster.on('error', (err: Error) => {
    core.noteError(err.message);
    log.debug({ err }, 'redis cluster error');
  });
  cluster.on('ready', () => { reconcile(); update(); });
  cluster.on('close', update);
  cluster.on('refresh', () => {
    // Called every SLOTS_REFRESH_MS: the channels are walked only when the map changed.
    const signature = slotMapSignature(cluster.slots);
    if (signature === mapSignature) return;
    mapSignature = signature;
    reconcile();
  });

  const ownerOf = (channel: string): string | undefined => cluster.slots[keySlot(channel)]?.[0];

  function update(): void {
    let up = !closing && cluster.status === 'ready' && assigned.size === core.wantedSize();
    for (const shard of shards.values()) if (shard.channels.size > 0 && !shard.up) up = false;
    core.setUp(up);
  }

  function shardFor(key: string): Shard {
    let shard = shards.get(key);
    if (shard) return shard;
    const at = key.lastIndexOf(':');
    const conn = new Redis({
      ...relayConnectionOptions, ...auth,
      host: key.slice(0, at), port: Number(key.slice(at + 1)),
      connectionName: `relay-ssub-${core.nodeId}`,
    });
    const s: Shard = { key, conn, up: false, generation: 0, channels: new Set() };
    shards.set(key, s);
    conn.on('error', (err: Error) => {
      core.noteError(err.message);
      log.debug({ err, shard: key }, 'redis shard connection error');
      // Redis dropped a subscription by itself (its slot left this node): read the map now.
      if (err.message.includes('sunsubscribe')) cluster.refreshSlotsCache();
    });
    conn.on('ready', () => void resubscribe(s, ++s.generation));
    conn.on('close', () => {
      s.generation++;
      s.up = false;
      update();
      // A master that went away may have been replaced by its replica: ask for the map now.
      if (!closing && cluster.status === 'ready') cluster.refreshSlotsCache();
    });
    conn.on('smessageBuffer', (channel: Buffer, message: Buffer) => core.receive(channel, message));
    return s;
  }

  /** A fresh connection holds nothing: subscribe to every channel the shard owns, slot by slot. */
  async function resubscribe(shard: Shard, generation: number): Promise<void> {
    const bySlot = new Map<number, string[]>();
    for (const ch of shard.channels) {
      const slot = keySlot(ch);
      const list = bySlot.get(slot);
      if (list) list.push(ch);
      else bySlot.set(slot, [ch]);
    }
    const groups = [...bySlot.values()];
    try {
      for (let i = 0; i < groups.length; i += RESUBSCRIBE_BATCH) {
        await Promise.all(groups.slice(i, i + RESUBSCRIBE_BATCH).map((g) => shard.conn.ssubscribe(...g)));
        if (generation !== shard.generation) return;
      }
    } catch (err) {
      // MOVED: our map is older than the cluster's; the next map reconciles. Else the connection broke.
      if (generation === shard.generation) {
        log.warn({ err, shard: shard.key }, 'shard resubscription failed; reading the slot map again');
        cluster.refreshSlotsCache();
      }
      return;
    }
    if (generation !== shard.generation) return;
    shard.up = true;
    update();
  }

  /** Puts every wanted channel on the master that owns its slot now; drops shards that own nothing. */
  function reconcile(): void {
    if (closing || cluster.status !== 'ready') return;
    const masters = new Set<string>();
    for (const nodes of cluster.slots) if (nodes?.[0]) masters.add(nodes[0]);
    for (const key of masters) shardFor(key);
    const lost = new Set<Shard>();
    for (const ch of core.wanted()) {
      const key = ownerOf(ch);
      const current = assigned.get(ch);
      if (current?.key === key) continue;
      if (current) {
        current.channels.delete(ch);
        lost.add(current);
      }
      if (!key) {
        assigned.delete(ch);
        continue;
      }
      const next = shardFor(key);
      assigned.set(ch, next);
      next.channels.add(ch);
      if (next.conn.status === 'ready') hold(next, ch).catch(() => undefined);
    }
    for (const [key, shard] of shards) {
      if (masters.has(key)) continue;
      shards.delete(key);
      lost.delete(shard);
      void shutConnection(shard.conn);
    }
    for (const shard of lost) {
      log.info({ shard: shard.key }, 'slots left this shard: reconnecting its subscriber');
      shard.up = false;
      shard.generation++;
      shard.conn.disconnect(true);
    }
    update();
  }

  /** SSUBSCRIBE on a shard that is up; a refusal (MOVED) sends the shard through a resubscription. */
  function hold(shard: Shard, channel: string): Promise<unknown> {
    const generation = shard.generation;
    return shard.conn.ssubscribe(channel).catch((err: unknown) => {
      if (generation === shard.generation && shard.conn.status === 'ready') {
        log.warn({ err, shard: shard.key }, 'shard subscription refused; reading the slot map again');
        cluster.refreshSlotsCache();
      }
      throw err;
    });
  }

  return {
    publish: (channel, payload) => (cluster.status === 'ready' ? cluster.spublish(channel, payload) : undefined),
    subscribe(channel, on) {
      if (closing) return undefined;
      if (!on) {
        const shard = assigned.get(channel);
        assigned.delete(channel);
        shard?.channels.delete(channel);
        update();
        return shard?.conn.status === 'ready' ? shard.conn.sunsubscribe(channel) : undefined;
      }
      const key = cluster.status === 'ready' ? ownerOf(channel) : undefined;
      if (!key) {
        update();
        return undefined;
      }
      const shard = shardFor(key);
      assigned.set(channel, shard);
      shard.channels.add(channel);
      update();
      // Connected: subscribe now (a resubscription under way may have read `channels` before this
      // one was added; twice is harmless). Not connected: its resubscription after 'ready' does it.
      return shard.conn.status === 'ready' ? hold(shard, channel) : undefined;
    },
    heartbeat() {
      for (const shard of shards.values()) if (shard.conn.status === 'ready') shard.conn.ping().catch(() => undefined);
    },
    async close() {
      closing = true;
      await Promise.all([...[...shards.values()].map((s) => shutConnection(s.conn)), cluster.quit().catch(() => undefined)]);
      cluster.disconnect();
    },
  };
}

/** The slot map as ranges of one owner: equal strings, same owners. */
function slotMapSignature(slots: string[][]): string {
  const parts: string[] = [];
  let from = 0;
  for (let i = 1; i <= SLOTS; i++) {
    if (i < SLOTS && slots[i]?.[0] === slots[from]?.[0]) continue;
    parts.push(`${from}-${i - 1}:${slots[from]?.[0] ?? '-'}`);
    from = i;
  }
  return parts.join(',');
}

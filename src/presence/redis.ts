import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { StoreClient } from '../redis-store.js';
import type { OnPresenceChange, Presence, PresenceTimings } from './types.js';

/*
 * Presence shared by the nodes of a cluster through Redis.
 *
 * Each node claims the users it has sockets for: in the user's hash `<prefix>presence:{<b>}:u:<id>`,
 * field `<nodeId>` = "<deadline>:<seen>" (ms, Redis's clock). While the node holds a socket of
 * the user the deadline is renewed every nodeTtlMs/3 (seen = the renewal time); when its last
 * socket of the user closes, the deadline becomes close + graceMs (seen = the close time). A
 * node killed with SIGKILL stops renewing: its claims lapse after nodeTtlMs at most.
 *
 * The hash's field `on` is the user's cluster-wide state. Whichever node's script sets it
 * (a first socket anywhere) reports "online"; whichever node's sweep finds every claim lapsed
 * and clears it reports "offline". Scripts run atomically, so each change is reported by exactly
 * one node, once. `<prefix>presence:{<b>}:due` orders the users of bucket b by their latest claim's
 * deadline, so a sweep reads only the users whose claims may have lapsed.
 *
 * Redis Cluster: a script may only touch keys of one slot, declared in KEYS. Users are spread
 * over BUCKETS buckets (user id modulo BUCKETS); the bucket is the hash tag `{<b>}` of its users'
 * hashes and of its due set, so each script call works on one bucket's keys, all declared, all in
 * one slot, and the buckets spread presence over the shards. The same layout serves one Redis.
 *
 * Why a field per node rather than one shared counter: a counter cannot forget the sockets of a
 * node that died without closing them; a claim with a deadline does.
 *
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
// Stale keys of a cluster that stopped entirely are dropped eventually.
const KEY_TTL_MS = 86_400_000;

/** KEYS due, then one hash per user; ARGV nodeId, ttlMs, userIds…: claims them live; returns those that went online. */
const TOUCH = `${NOW}
local deadline = now + tonumber(ARGV[2])
local flipped = {}
for i = 2, #KEYS do
  local key, user = KEYS[i], ARGV[i + 1]
  redis.call('HSET', key, ARGV[1], deadline .. ':' .. now)
  if redis.call('HSETNX', key, 'on', '1') == 1 then flipped[#flipped + 1] = user end
  redis.call('PEXPIRE', key, ${KEY_TTL_MS})
  redis.call('ZADD', KEYS[1], 'GT', deadline, user)
end
redis.call('PEXPIRE', KEYS[1], ${KEY_TTL_MS})
return flipped`;

/** KEYS due, then one hash per user; ARGV nodeId, graceMs, userIds…: this node's last socket of each closed. */
const DOWN = `${NOW}
local deadline = now + tonumber(ARGV[2])
for i = 2, #KEYS do
  local key, user = KEYS[i], ARGV[i + 1]
  redis.call('HSET', key, ARGV[1], deadline .. ':' .. now)
  local latest = deadline
  local h = redis.call('HGETALL', key)
  for j = 1, #h, 2 do
    if h[j] ~= 'on' and h[j] ~= 'seen' then
      local d = tonumber(string.match(h[j + 1], '^(%d+)'))
      if d and d > latest then latest = d end
    end
  end
  -- Not GT: the due time may move earlier (this node's live claim just became a grace).
  redis.call('ZADD', KEYS[1], latest, user)
end
return 0`;

/** KEYS[1] due; ARGV limit: the users whose latest deadline has passed (the sweep's candidates). */
const DUE = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))`;

/**
 * KEYS due, then the hash of each candidate; ARGV userIds…: drops lapsed claims; returns
 * [userId, seen, …] of users gone offline. A candidate renewed since DUE read it is left alone.
 */
const SWEEP = `${NOW}
local out = {}
for i = 2, #KEYS do
  local key, u = KEYS[i], ARGV[i - 1]
  local due = tonumber(redis.call('ZSCORE', KEYS[1], u))
  if due and due <= now then
    local h = redis.call('HGETALL', key)
    local live, seen, on = 0, 0, false
    for j = 1, #h, 2 do
      local f, v = h[j], h[j + 1]
      if f == 'on' then on = true
      elseif f == 'seen' then seen = math.max(seen, tonumber(v) or 0)
      else
        local d, s = string.match(v, '^(%d+):(%d+)$')
        d = tonumber(d) or 0
        s = tonumber(s) or 0
        if d > now then live = math.max(live, d)
        else
          redis.call('HDEL', key, f)
          seen = math.max(seen, s)
        end
      end
    end
    if live > 0 then
      redis.call('ZADD', KEYS[1], live, u)
      if seen > 0 then redis.call('HSET', key, 'seen', seen) end
    else
      redis.call('DEL', key)
      redis.call('ZREM', KEYS[1], u)
      if on then
        out[#out + 1] = u
        out[#out + 1] = tostring(seen)
      end
    end
  end
end
return out`;

/** Users per script call: keeps each script (Redis is single-threaded) short. */
const BATCH = 500;
/** Presence buckets (hash tags): how many slots, hence shards, presence is spread over. */
export const BUCKETS = 16;
const STARTUP_WAIT_MS = 5_000;

/** A script called with its number of keys first (ioredis: defineCommand without numberOfKeys). */
type Script = (numberOfKeys: number, ...keysThenArgs: (string | number)[]) => Promise<unknown>;
interface PresenceScripts {
  presenceTouch: Script;
  presenceDown: Script;
  presenceDue: (dueKey: string, limit: number) => Promise<unknown>;
  presenceSweep: Script;
}

export interface RedisPresenceOptions {
  /** One Redis or a Redis Cluster (redis-store.ts); presence defines its scripts on it and closes it. */
  client: StoreClient;
  prefix: string;
  timings: PresenceTimings;
  log: Logger;
  onChange: OnPresenceChange;
}

export async function createRedisPresence(opts: RedisPresenceOptions): Promise<Presence> {
  const { timings, onChange } = opts;
  const nodeId = randomBytes(8).toString('hex');
  const log = opts.log.child({ component: 'presence', nodeId });
  const bucketOf = (userId: number): number => userId % BUCKETS;
  const userKey = (userId: number | string): string => `${opts.prefix}presence:{${bucketOf(Number(userId))}}:u:${userId}`;
  const dueKey = (bucket: number): string => `${opts.prefix}presence:{${bucket}}:due`;
  const redis = opts.client as StoreClient & PresenceScripts;
  redis.on('error', (err: Error) => log.debug({ err }, 'presence redis error'));
  redis.defineCommand('presenceTouch', { lua: TOUCH });
  redis.defineCommand('presenceDown', { lua: DOWN });
  redis.defineCommand('presenceDue', { numberOfKeys: 1, lua: DUE });
  redis.defineCommand('presenceSweep', { lua: SWEEP });

  /** Calls `script` once per bucket of `userIds`, at most BATCH users a call: [due, hashes…], [...args, users…]. */
  async function perBucket(userIds: number[], call: (keys: string[], users: number[]) => Promise<void>): Promise<void> {
    const buckets = new Map<number, number[]>();
    for (const id of userIds) {
      const b = bucketOf(id);
      const list = buckets.get(b);
      if (list) list.push(id);
      else buckets.set(b, [id]);
    }
    await Promise.all([...buckets].map(async ([b, ids]) => {
      for (let i = 0; i < ids.length; i += BATCH) {
        const users = ids.slice(i, i + BATCH);
        await call([dueKey(b), ...users.map(userKey)], users);
      }
    }));
  }

  /** Users with at least one socket on this node: what renewals claim. */
  const here = new Set<number>();
  /** up/down calls of this turn of the event loop, in order; sent as few script calls. */
  let ops: { up: boolean; userId: number }[] = [];
  let scheduled = false;
  /** The sends so far, chained: each batch goes out after the one before. */
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;

  async function touch(userIds: number[]): Promise<void> {
    await perBucket(userIds, async (keys, users) => {
      // Only users still here when the chunk goes out: a renewal must not revive the claim of a
      // user whose last socket closed meanwhile (its down is queued behind this).
      const kept = users.flatMap((id, i) => (here.has(id) ? [i] : []));
      if (kept.length === 0) return;
      if (kept.length < users.length) {
        users = kept.map((i) => users[i]!);
        keys = [keys[0]!, ...kept.map((i) => keys[i + 1]!)];
      }
      const flipped = (await redis.presenceTouch(keys.length, ...keys, nodeId, timings.nodeTtlMs, ...users)) as string[];
      if (flipped.length > 0) onChange(flipped.map((id) => ({ userId: Number(id), online: true, lastSeenAt: null })));
    });
  }

  async function down(userIds: number[]): Promise<void> {
    await perBucket(userIds, async (keys, users) => {
      await redis.presenceDown(keys.length, ...keys, nodeId, timings.graceMs, ...users);
    });
  }

  /** Sends the queued ops in order, consecutive ops of one kind in one call. */
  async function send(batch: { up: boolean; userId: number }[]): Promise<void> {
    for (let i = 0; i < batch.length;) {
      const kind = batch[i]!.up;
      const ids: number[] = [];
      for (; i < batch.length && batch[i]!.up === kind; i++) ids.push(batch[i]!.userId);
      try {
        // Not connected: nothing waits (a cluster client would queue it); the renewal or the lapse repairs it.
        if (redis.status !== 'ready') throw new Error('presence redis not ready');
        await (kind ? touch(ids) : down(ids));
      } catch (err) {
        // Redis unreachable: a missed up is re-claimed by the next renewal; a missed down lets the
        // node's live claim lapse on its own (the user then goes offline nodeTtlMs later).
        log.debug({ err, users: ids.length, up: kind }, 'presence update failed');
      }
    }
  }

  function schedule(op: { up: boolean; userId: number }): void {
    ops.push(op);
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const batch = ops;
      ops = [];
      flushing = flushing.then(() => send(batch));
    });
  }

  const renew = setInterval(() => {
    if (closed || redis.status !== 'ready') return;
    void touch([...here]).catch((err: unknown) => log.debug({ err }, 'presence renewal failed'));
  }, Math.max(100, Math.floor(timings.nodeTtlMs / 3)));
  renew.unref();

  /** Drops the lapsed claims of one bucket: its due users first, then their hashes, declared. */
  async function sweepBucket(bucket: number): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const due = (await redis.presenceDue(dueKey(bucket), BATCH)) as string[];
      if (due.length === 0) return;
      const out = (await redis.presenceSweep(due.length + 1, dueKey(bucket), ...due.map(userKey), ...due)) as string[];
      const changes = [];
      for (let i = 0; i + 1 < out.length; i += 2) {
        const seen = Number(out[i + 1]);
        changes.push({ userId: Number(out[i]), online: false, lastSeenAt: seen > 0 ? seen : null });
      }
      if (changes.length > 0) onChange(changes);
      if (due.length < BATCH) return;
    }
  }

  let sweeping = false;
  const sweep = setInterval(() => {
    if (closed || sweeping || redis.status !== 'ready') return;
    sweeping = true;
    void (async () => {
      await Promise.all(Array.from({ length: BUCKETS }, (_, b) => sweepBucket(b)));
    })().catch((err: unknown) => log.debug({ err }, 'presence sweep failed')).finally(() => { sweeping = false; });
  }, timings.sweepMs);
  sweep.unref();

  await new Promise<void>((resolve) => {
    if (redis.status === 'ready') return resolve();
    const timer = setTimeout(() => {
      log.warn('presence: Redis not reachable yet; starting without it');
      resolve();
    }, STARTUP_WAIT_MS);
    timer.unref();
    redis.once('ready', () => { clearTimeout(timer); resolve(); });
  });

  return {
    up(userId) {
      here.add(userId);
      schedule({ up: true, userId });
    },
    down(userId) {
      here.delete(userId);
      schedule({ up: false, userId });
    },
    async online(userIds) {
      if (redis.status === 'ready') {
        try {
          // One pipeline per bucket: a cluster pipeline must stay on one node, a bucket is one slot.
          const on = new Set<number>();
          const buckets = new Map<number, number[]>();
          for (const id of userIds) buckets.set(bucketOf(id), [...(buckets.get(bucketOf(id)) ?? []), id]);
          await Promise.all([...buckets.values()].map(async (ids) => {
            const pipe = redis.pipeline();
            for (const id of ids) pipe.hexists(userKey(id), 'on');
            const replies = (await pipe.exec()) ?? [];
            ids.forEach((id, i) => { if (replies[i]?.[1] === 1) on.add(id); });
          }));
          return on;
        } catch (err) {
          log.debug({ err }, 'presence read failed; answering from this node');
        }
      }
      // Redis down: this node's own sockets are all it knows.
      return new Set(userIds.filter((id) => here.has(id)));
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(renew);
      clearInterval(sweep);
      // The downs of the sockets closed by shutdown go out before the connection does.
      await new Promise((r) => setImmediate(r));
      await flushing;
      if (ops.length > 0) await send(ops);
      try {
        if (redis.status === 'ready') await redis.quit();
      } catch {
        // Already gone.
      } finally {
        redis.disconnect();
      }
    },
  };
}

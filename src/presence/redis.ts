import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { OnPresenceChange, Presence, PresenceTimings } from './types.js';

/*
 * Presence shared by the nodes of a cluster through Redis.
 *
 * Each node claims the users it has sockets for: in the user's hash `<prefix>presence:u:<id>`,
 * field `<nodeId>` = "<deadline>:<seen>" (ms, Redis's clock). While the node holds a socket of
 * the user the deadline is renewed every nodeTtlMs/3 (seen = the renewal time); when its last
 * socket of the user closes, the deadline becomes close + graceMs (seen = the close time). A
 * node killed with SIGKILL stops renewing: its claims lapse after nodeTtlMs at most.
 *
 * The hash's field `on` is the user's cluster-wide state. Whichever node's script sets it
 * (a first socket anywhere) reports "online"; whichever node's sweep finds every claim lapsed
 * and clears it reports "offline". Scripts run atomically, so each change is reported by exactly
 * one node, once. `<prefix>presence:due` orders users by their latest claim's deadline, so a
 * sweep reads only the users whose claims may have lapsed.
 *
 * Why a field per node rather than one shared counter: a counter cannot forget the sockets of a
 * node that died without closing them; a claim with a deadline does.
 *
 * Keys are built inside the scripts from the prefix (not declared in KEYS): fine on a single
 * Redis or a replicated one, not on Redis Cluster.
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
// Stale keys of a cluster that stopped entirely are dropped eventually.
const KEY_TTL_MS = 86_400_000;

/** KEYS[1] due; ARGV prefix, nodeId, ttlMs, userIds…: claims them live; returns those that went online. */
const TOUCH = `${NOW}
local deadline = now + tonumber(ARGV[3])
local flipped = {}
for i = 4, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  redis.call('HSET', key, ARGV[2], deadline .. ':' .. now)
  if redis.call('HSETNX', key, 'on', '1') == 1 then flipped[#flipped + 1] = ARGV[i] end
  redis.call('PEXPIRE', key, ${KEY_TTL_MS})
  redis.call('ZADD', KEYS[1], 'GT', deadline, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ${KEY_TTL_MS})
return flipped`;

/** KEYS[1] due; ARGV prefix, nodeId, graceMs, userIds…: this node's last socket of each closed. */
const DOWN = `${NOW}
local deadline = now + tonumber(ARGV[3])
for i = 4, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  redis.call('HSET', key, ARGV[2], deadline .. ':' .. now)
  local latest = deadline
  local h = redis.call('HGETALL', key)
  for j = 1, #h, 2 do
    if h[j] ~= 'on' and h[j] ~= 'seen' then
      local d = tonumber(string.match(h[j + 1], '^(%d+)'))
      if d and d > latest then latest = d end
    end
  end
  -- Not GT: the due time may move earlier (this node's live claim just became a grace).
  redis.call('ZADD', KEYS[1], latest, ARGV[i])
end
return 0`;

/** KEYS[1] due; ARGV prefix, limit: drops lapsed claims; returns [userId, seen, …] of users gone offline. */
const SWEEP = `${NOW}
local users = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, u in ipairs(users) do
  local key = ARGV[1] .. u
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
return out`;

/** Users per script call: keeps each script (Redis is single-threaded) short. */
const BATCH = 500;
const STARTUP_WAIT_MS = 5_000;

type Script = (key: string, ...args: (string | number)[]) => Promise<unknown>;
interface PresenceRedis extends Redis {
  presenceTouch: Script;
  presenceDown: Script;
  presenceSweep: Script;
}

export interface RedisPresenceOptions {
  url: string;
  prefix: string;
  timings: PresenceTimings;
  log: Logger;
  onChange: OnPresenceChange;
}

export async function createRedisPresence(opts: RedisPresenceOptions): Promise<Presence> {
  const { timings, onChange } = opts;
  const nodeId = randomBytes(8).toString('hex');
  const log = opts.log.child({ component: 'presence', nodeId });
  const userKey = `${opts.prefix}presence:u:`;
  const dueKey = `${opts.prefix}presence:due`;
  const redis = new Redis(opts.url, {
    connectionName: `relay-presence-${nodeId}`,
    retryStrategy: (times) => Math.min(times * 100, 1_000),
    // Nothing waits for Redis: what fails now is repaired by the next renewal or sweep.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
  }) as PresenceRedis;
  redis.on('error', (err) => log.debug({ err }, 'presence redis error'));
  redis.defineCommand('presenceTouch', { numberOfKeys: 1, lua: TOUCH });
  redis.defineCommand('presenceDown', { numberOfKeys: 1, lua: DOWN });
  redis.defineCommand('presenceSweep', { numberOfKeys: 1, lua: SWEEP });

  /** Users with at least one socket on this node: what renewals claim. */
  const here = new Set<number>();
  /** up/down calls of this turn of the event loop, in order; sent as few script calls. */
  let ops: { up: boolean; userId: number }[] = [];
  let scheduled = false;
  /** The sends so far, chained: each batch goes out after the one before. */
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;

  async function touch(userIds: number[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += BATCH) {
      // Only users still here when the chunk goes out: a renewal must not revive the claim of a
      // user whose last socket closed meanwhile (its down is queued behind this).
      const chunk = userIds.slice(i, i + BATCH).filter((id) => here.has(id));
      if (chunk.length === 0) continue;
      const flipped = (await redis.presenceTouch(dueKey, userKey, nodeId, timings.nodeTtlMs, ...chunk)) as string[];
      if (flipped.length > 0) onChange(flipped.map((id) => ({ userId: Number(id), online: true, lastSeenAt: null })));
    }
  }

  async function down(userIds: number[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += BATCH) {
      await redis.presenceDown(dueKey, userKey, nodeId, timings.graceMs, ...userIds.slice(i, i + BATCH));
    }
  }

  /** Sends the queued ops in order, consecutive ops of one kind in one call. */
  async function send(batch: { up: boolean; userId: number }[]): Promise<void> {
    for (let i = 0; i < batch.length;) {
      const kind = batch[i]!.up;
      const ids: number[] = [];
      for (; i < batch.length && batch[i]!.up === kind; i++) ids.push(batch[i]!.userId);
      try {
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

  let sweeping = false;
  const sweep = setInterval(() => {
    if (closed || sweeping || redis.status !== 'ready') return;
    sweeping = true;
    void (async () => {
      for (let round = 0; round < 20; round++) {
        const out = (await redis.presenceSweep(dueKey, userKey, BATCH)) as string[];
        const changes = [];
        for (let i = 0; i + 1 < out.length; i += 2) {
          const seen = Number(out[i + 1]);
          changes.push({ userId: Number(out[i]), online: false, lastSeenAt: seen > 0 ? seen : null });
        }
        if (changes.length > 0) onChange(changes);
        if (out.length < BATCH * 2) break;
      }
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
          const pipe = redis.pipeline();
          for (const id of userIds) pipe.hexists(userKey + id, 'on');
          const replies = (await pipe.exec()) ?? [];
          return new Set(userIds.filter((_, i) => replies[i]?.[1] === 1));
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

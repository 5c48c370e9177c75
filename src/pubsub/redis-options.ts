import type { Redis, RedisOptions } from 'ioredis';

/*
 * Connection options every Relay connection to Redis shares, single Redis or a cluster's nodes.
 */

/** A connection with a command unanswered this long is torn down and reconnected. */
export const SOCKET_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 3_000;
const QUIT_TIMEOUT_MS = 1_000;

/** For the relay's connections: nothing waits, nothing is sent twice, we resubscribe ourselves. */
export const relayConnectionOptions: RedisOptions = {
  // Reconnect for ever, quickly: 100 ms, 200 ms, ... at most 1 s apart.
  retryStrategy: (times) => Math.min(times * 100, 1_000),
  connectTimeout: CONNECT_TIMEOUT_MS,
  socketTimeout: SOCKET_TIMEOUT_MS,
  // Nothing waits for Redis: a command that cannot be written now fails now.
  enableOfflineQueue: false,
  // A command in flight when the connection broke may have been executed: never send it again
  // (a resent PUBLISH would be a duplicate push).
  autoResendUnfulfilledCommands: false,
  // The subscription set is ours (relay-core.ts `topics`): ioredis would replay only the channels
  // acknowledged before the drop, and changes made during the outage would wait in a queue.
  autoResubscribe: false,
  maxRetriesPerRequest: 0,
};

/** QUIT, waiting at most a second, then the socket is closed whatever happened. */
export async function shutConnection(conn: Redis): Promise<void> {
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

import { Redis, type Cluster } from 'ioredis';
import type { Config } from './config.js';
import { createClusterClient } from './pubsub/redis-cluster.js';

/**
 * What Relay keeps in Redis besides the relay (attempt counters, and whatever state the nodes
 * share) goes through one client of this type: a single Redis or a Redis Cluster. On a cluster,
 * every command names one key (or keys of one hash tag): nothing here may need a multi-slot command.
 */
export type StoreClient = Redis | Cluster;

/**
 * A client for REDIS_URL or REDIS_CLUSTER_NODES (undefined when neither is set). Commands never
 * queue while Redis is down: they fail at once, and callers fall back or answer without it.
 */
export function createStoreClient(config: Config, connectionName: string): StoreClient | undefined {
  let client: StoreClient | undefined;
  if (config.REDIS_URL) {
    client = new Redis(config.REDIS_URL, {
      enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName,
      // Reconnect quickly; a command whose connection broke is not sent twice.
      retryStrategy: (times) => Math.min(times * 100, 1_000), autoResendUnfulfilledCommands: false,
    });
  } else if (config.REDIS_CLUSTER_NODES) {
    client = createClusterClient(config.REDIS_CLUSTER_NODES, {
      // Needed for the first command to each master (its connection opens then); callers check
      // `status === 'ready'` before using the client, so nothing waits while the cluster is down.
      enableOfflineQueue: true,
      clusterRetryStrategy: (times) => Math.min(times * 100, 1_000),
      retryDelayOnFailover: 0,
      redisOptions: { maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, connectionName },
    });
  }
  client?.on('error', () => undefined);
  return client;
}

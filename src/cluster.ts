/**
 * Cluster mode's Redis side, imported by the composition root only when REDIS_URL or
 * REDIS_CLUSTER_NODES is set: a single node never loads ioredis (50–80 ms of CPU at every start, measured).
 */
export { createRedisPubSub } from './pubsub/redis.js';
export { createRedisClusterPubSub } from './pubsub/redis-cluster.js';
export { createStoreClient } from './redis-store.js';
export { createRedisPresence } from './presence/redis.js';

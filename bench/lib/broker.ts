/**
 * A broker of the bench's own for --redis and --redis-cluster: one redis-server, or a Redis
 * Cluster of N masters (no replicas: a replica's CPU is replication, not pub/sub), on free ports,
 * so that the CPU of each Redis process is metered and nothing else shares it. Started with the
 * launchers of the test suite (one implementation of "a Redis of one's own").
 */
import { OwnRedis } from '../../test/helpers/redis.js';
import { OwnRedisCluster } from '../../test/helpers/redis-cluster.js';
import { track } from './lifecycle.js';

export { dropPrefix } from '../../test/helpers/redis.js';

export type BrokerKind = 'redis' | 'redis-cluster';

export interface BenchBroker {
  kind: BrokerKind;
  /** REDIS_URL or REDIS_CLUSTER_NODES for the servers. */
  env: Record<string, string>;
  /** One per Redis process: the single Redis, or each shard's master. */
  pids: number[];
  stop(): Promise<void>;
}

export async function startBenchBroker(kind: BrokerKind, shards: number): Promise<BenchBroker> {
  if (kind === 'redis') {
    const redis = await OwnRedis.start();
    const stop = track(() => redis.kill());
    return { kind, env: { REDIS_URL: redis.url }, pids: redis.pid === undefined ? [] : [redis.pid], stop };
  }
  const cluster = await OwnRedisCluster.start({ masters: shards, replicas: 0 });
  const stop = track(() => cluster.stop());
  return { kind, env: { REDIS_CLUSTER_NODES: cluster.seeds }, pids: cluster.pids, stop };
}

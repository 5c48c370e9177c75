// One contract, two brokers: the cluster suites run over one Redis (classic pub/sub) and over a
// Redis Cluster of their own (sharded pub/sub). useRelay (helpers/protocol.ts) starts the broker of
// the run; a suite gets its run on the cluster from ONE line, in a file of its own, e.g.
// test/cluster.redis-cluster.test.ts:
//
//   process.env.RELAY_TEST_PUBSUB = 'redis-cluster'; await import('./cluster.test.js');

import { keySlot } from '../../src/pubsub/slot.js';
import { SHARED_REDIS_URL, dropPrefix, testPrefix } from './redis.js';
import type { OwnRedisCluster } from './redis-cluster.js';

export type BrokerKind = 'redis' | 'redis-cluster';

export interface TestBroker {
  readonly kind: BrokerKind;
  /** The relay's settings for it: REDIS_URL or REDIS_CLUSTER_NODES, and a prefix of the file's own. */
  readonly env: Record<string, string>;
  readonly prefix: string;
  /** The cluster, when the broker is one (for failover and slot migration). */
  readonly cluster: OwnRedisCluster | undefined;
  /** How many connections (one per node at most) hold the channel of `topic`, where it lives. */
  subscribers(topic: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The machine's Redis under a prefix of its own, or a Redis Cluster of its own. ioredis is loaded
 * here, not at import: most files that import this run on local pub/sub, and loading it cost each
 * test process about 230 ms of CPU.
 */
export async function startBroker(kind: BrokerKind): Promise<TestBroker> {
  const prefix = testPrefix();
  if (kind === 'redis') {
    const { Redis } = await import('ioredis');
    const redis = new Redis(SHARED_REDIS_URL);
    return {
      kind, prefix, cluster: undefined,
      env: { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix },
      async subscribers(topic) {
        const reply = (await redis.call('PUBSUB', 'NUMSUB', prefix + topic)) as [string, number];
        return Number(reply[1]);
      },
      async stop() {
        // The shared Redis keeps what the servers stored under the prefix (presence, counters): drop it.
        await dropPrefix(redis, prefix);
        await redis.quit();
      },
    };
  }
  const { OwnRedisCluster } = await import('./redis-cluster.js');
  const cluster = await OwnRedisCluster.start();
  return {
    kind, prefix, cluster,
    env: { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_PREFIX: prefix },
    async subscribers(topic) {
      // A shard channel is counted by the master that owns its slot, and only there.
      const owner = await cluster.ownerOf(keySlot(prefix + topic));
      const reply = (await cluster.call(owner.port, 'PUBSUB', 'SHARDNUMSUB', prefix + topic)) as [string, number];
      return Number(reply[1]);
    },
    stop: () => cluster.stop(),
  };
}

// A second node for the ws-* suites of v1.2: on a broker run (the .redis and .redis-cluster twins)
// a server of its own on the same database and broker prefix, so pushes cross nodes; on local
// pub/sub there is only one node, and the fixture's server stands for both.
import type { RelayFixture } from './protocol.js';

export async function otherNode(fx: RelayFixture, env: Record<string, string | undefined>): Promise<string> {
  if (!fx.broker) return fx.relay.ws;
  const node = await fx.startAnother({ ...fx.broker.env, ...env, DATABASE_URL: fx.db.url });
  return node.ws;
}

// The fixture of the v1.2 ws-* suites: a server (useRelay) and a second node. On a broker run (the
// .redis and .redis-cluster twins) the second node is a server of its own on the same database and
// broker prefix, so pushes cross nodes; on local pub/sub there is only one node, and the fixture's
// server stands for both. Plus a connection to the file's database, to look at what is stored.
import { after } from 'node:test';
import postgres from 'postgres';
import { useRelay, type RelayFixture } from './protocol.js';
import type { Account, Client } from './client.js';

export interface TwoNodes {
  fx: RelayFixture;
  /** A connection to the first node. */
  connect(account: Account): Promise<Client>;
  /** A connection to the second node (the first on local pub/sub). */
  onOther(account: Account): Promise<Client>;
  /** The file's database (one connection, closed after the file). */
  store(): postgres.Sql;
}

export function useTwoNodes(label: string, env: Record<string, string | undefined>): TwoNodes {
  let remote = '';
  const fx = useRelay(label, env, async (f) => {
    remote = f.broker ? (await f.startAnother({ ...f.broker.env, ...env, DATABASE_URL: f.db.url })).ws : f.relay.ws;
  });
  let db: postgres.Sql | undefined;
  after(async () => { await db?.end(); });
  return {
    fx,
    connect: (account) => fx.connect(account),
    onOther: (account) => fx.connect(account, 'header', remote),
    store: () => (db ??= postgres(fx.db.url, { max: 1, onnotice: () => undefined })),
  };
}

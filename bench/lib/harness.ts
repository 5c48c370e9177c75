/**
 * The system under test for one scenario: a fresh database and the server started on it
 * (or, with --url, servers already running), plus a database session for seeding. All of it
 * is torn down by `dispose`, which is also registered for SIGINT.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import webpush from 'web-push';
import { createFreshDatabase, type FreshDatabase } from './database.js';
import { track } from './lifecycle.js';
import { launchServers, type ServerCluster } from './server.js';
import { collectGarbage } from './gc.js';
import { dropPrefix, startBenchBroker, type BenchBroker, type BrokerKind } from './broker.js';
import type { WsTarget } from './wsclient.js';

/** Servers the bench did not start: their URLs, their database and their token secret. */
export interface ExternalServers {
  urls: string[];
  databaseUrl: string;
  secret: string;
}

export interface HarnessOptions {
  adminUrl: string;
  entry: string;
  nodes: number;
  serverEnv: Record<string, string>;
  /** Write the server's V8 CPU profile here (on its exit). */
  profileDir: string | null;
  verbose: boolean;
  /** Start the servers with the inspector on loopback, so that `collectGarbage` can run a full GC in them. */
  gc: boolean;
  external: ExternalServers | null;
  /** A broker of the run's own (--redis, --redis-cluster), its processes metered; null: REDIS_URL if given. */
  broker: BrokerKind | null;
  /** Masters of --redis-cluster. */
  shards: number;
}

export interface BenchEnv {
  readonly targets: readonly WsTarget[];
  /** Empty with --url: a server the bench did not start is not metered. */
  readonly serverPids: readonly number[];
  /** The run's own Redis processes (one, or one per shard); empty without --redis / --redis-cluster. */
  readonly brokerPids: readonly number[];
  /** One session on the server's database, for seeding and planning. */
  readonly sql: postgres.Sql;
  readonly secret: string;
  /** The server's database (bench tools open their own sessions on it, e.g. EXPLAIN). */
  readonly databaseUrl: string;
  /** A full GC in every server node; false when the bench cannot (no --gc, or --url). */
  collectGarbage(): Promise<boolean>;
  /** PostgreSQL backends currently serving the database (the server's pool). */
  databasePids(): Promise<number[]>;
  dispose(): Promise<void>;
}

/** The generator only ever talks to this machine. */
export function loopbackTarget(url: string): WsTarget {
  const parsed = new URL(url);
  const host = parsed.hostname === 'localhost' ? '127.0.0.1' : parsed.hostname;
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) throw new Error(`${url}: only loopback (127.0.0.0/8) targets are allowed`);
  const port = Number(parsed.port || (parsed.protocol === 'wss:' ? 443 : 80));
  if (parsed.protocol !== 'ws:') throw new Error(`${url}: only ws:// is supported`);
  return { host, port };
}

/**
 * Server settings the bench starts with (--server-env overrides them). The per-connection
 * request rate limit is lifted: closed-loop clients measure capacity, and at small sizes each
 * connection sends far more than the default 200/s allows.
 */
export const BENCH_SERVER_ENV: Readonly<Record<string, string>> = {
  LOG_LEVEL: 'warn',
  WS_RATE_PER_SECOND: '1000000',
  WS_RATE_BURST: '1000000',
};

function session(url: string): postgres.Sql {
  return postgres(url, { max: 1, onnotice: () => undefined, idle_timeout: 0 });
}

async function pidsOf(sql: postgres.Sql): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
  return rows.map((row) => row.pid);
}

export async function prepareEnv(options: HarnessOptions): Promise<BenchEnv> {
  if (options.external !== null) {
    const { urls, databaseUrl, secret } = options.external;
    const sql = session(databaseUrl);
    const dispose = track(() => sql.end({ timeout: 5 }));
    return { targets: urls.map(loopbackTarget), serverPids: [], brokerPids: [], sql, secret, databaseUrl, collectGarbage: async () => false, databasePids: () => pidsOf(sql), dispose };
  }
  const hasRedis = options.broker !== null || ['REDIS_URL', 'REDIS_CLUSTER_NODES'].some((key) => options.serverEnv[key] !== undefined || process.env[key] !== undefined);
  if (options.nodes > 1 && !hasRedis) {
    throw new Error('--nodes > 1 needs a broker: --redis, --redis-cluster, or REDIS_URL (e.g. --server-env REDIS_URL=redis://127.0.0.1:6379)');
  }
  let database: FreshDatabase | null = null;
  let cluster: ServerCluster | null = null;
  let broker: BenchBroker | null = null;
  let sql: postgres.Sql | null = null;
  // A Redis the run did not start (REDIS_URL), where its nodes work under the run's own prefix
  // (unless --server-env chose one: then it is not the run's to drop).
  const sharedRedis = options.broker === null && options.serverEnv['REDIS_PREFIX'] === undefined
    ? options.serverEnv['REDIS_URL'] ?? process.env['REDIS_URL'] : undefined;
  const dispose = track(async () => {
    await sql?.end({ timeout: 5 });
    await cluster?.stop();
    await broker?.stop();
    if (sharedRedis !== undefined && database !== null) await dropPrefix(sharedRedis, `${database.name}:`);
    await database?.drop();
  });
  try {
    database = await createFreshDatabase(options.adminUrl);
    if (options.broker !== null) broker = await startBenchBroker(options.broker, options.shards);
    const secret = randomBytes(24).toString('hex');
    // A cluster refuses to start without a shared Web Push key pair (config.ts): one per run.
    const vapid = webpush.generateVAPIDKeys();
    cluster = await launchServers({
      count: options.nodes,
      entry: options.entry,
      env: {
        ...BENCH_SERVER_ENV,
        // Nodes of one run share a Redis key prefix; another run (or the tests) on the same Redis never sees it.
        ...(hasRedis ? { REDIS_PREFIX: `${database.name}:`, VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey } : {}),
        ...broker?.env,
        ...options.serverEnv,
        DATABASE_URL: database.url,
        JWT_SECRET: secret,
      },
      nodeArgs: [
        ...(options.profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`]),
        ...(options.gc ? ['--inspect=127.0.0.1:0'] : []),
      ],
      verbose: options.verbose,
    });
    sql = session(database.url);
    const serverPids = cluster.nodes.map((node) => node.pid);
    const open = sql;
    const inspectors = cluster.nodes.map((node) => node.inspector);
    const collect = async (): Promise<boolean> => {
      if (!options.gc || inspectors.some((url) => url === null)) return false;
      await Promise.all(inspectors.map((url) => collectGarbage(url ?? '')));
      return true;
    };
    return { targets: cluster.nodes.map((node) => node.target), serverPids, brokerPids: broker?.pids ?? [], sql: open, secret, databaseUrl: database.url, collectGarbage: collect, databasePids: () => pidsOf(open), dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

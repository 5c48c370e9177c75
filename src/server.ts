import type { us_listen_socket } from 'uWebSockets.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Services } from './services.js';
import type { ControlEvent, PubSub } from './pubsub/types.js';
import { loadUws } from './uws.js';
import { createSql, dbStats } from './db/client.js';
import { migrate } from './db/migrate.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { createUsers } from './db/users.js';
import { createGroups } from './db/groups.js';
import { createMessages } from './db/messages.js';
import { createTokenService } from './auth/tokens.js';
import { authenticate } from './auth/authenticate.js';
import { loadOrCreateSecret } from './secret.js';
import { SocketRegistry } from './ws/sessions.js';
import { createLocalPubSub } from './pubsub/local.js';
import { createLimits } from './limits.js';
import { createMetrics } from './metrics.js';
import { InFlight } from './inflight.js';
import { mountApp } from './app.js';
import { startSlowConsumerSweep } from './ws/slowConsumers.js';
import { startExpirySweep } from './ws/expiry.js';
import { resyncSockets } from './ws/resync.js';
import { CloseCode } from './protocol.js';
import { createPresenceStore } from './db/presence.js';
import { createBlocks } from './db/blocks.js';
import { createSearch } from './db/search.js';
import { createPresenceNotifier } from './presence/notify.js';
import { createLocalPresence } from './presence/local.js';
import type { Presence } from './presence/types.js';
import { TypingThrottle } from './ws/typingThrottle.js';
import { createMutes } from './db/mutes.js';
import { startPush, type Push } from './push/service.js';
import { createFiles } from './db/files.js';
import { openStorage } from './files/open.js';
import { createSigner } from './files/signing.js';
import { createFileService } from './files/service.js';
import { startFileSweeper } from './files/sweeper.js';

export interface RunningServer {
  port: number;
  services: Services;
  /** Graceful: readiness fails, listening stops, in-flight work finishes, sockets get 1001, drivers close. */
  stop(): Promise<void>;
}

/** The composition root: config → database → pub/sub → app → listen. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const { uws, native } = loadUws(config.UWS_ALLOW_FALLBACK);
  if (!native) {
    log.warn('running on the uWebSockets.js fallback shim (UWS_ALLOW_FALLBACK): for diagnosis only; it is slow and this package version fails on some requests');
  }

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: config.DATA_DIR, log });
    databaseUrl = embedded.url;
  }
  const secret = config.JWT_SECRET ?? (await loadOrCreateSecret(config.DATA_DIR));

  const sql = createSql(databaseUrl, { max: config.DB_POOL_MAX, log });
  try {
    await migrate(sql, log);
  } catch (err) {
    await sql.end({ timeout: 1 });
    await embedded?.stop();
    throw err;
  }

  const app = uws.App();
  // Built first, read at each scrape: the parts below get its counting hooks at construction.
  let push: Push | undefined;
  const metrics = createMetrics({ db: () => dbStats(sql), relay: () => pubsub, pushDepth: () => push?.depth() });
  // The registry and the transport call each other (a control event lands on sockets; a join's
  // push waits for the transport's subscription): the two closures here tie them, nothing else.
  const sessions = new SocketRegistry((topic) => pubsub.subscribed(topic));
  const hooks = { deliverControl: (userId: number, event: ControlEvent) => sessions.apply(userId, event), onPublish: metrics.countPush };
  const inflight = new InFlight();
  const users = createUsers(sql);
  const tokens = createTokenService(secret, config.JWT_TTL);
  let closing = false;
  const relayOptions = {
    ...hooks, app, prefix: config.REDIS_PREFIX, log,
    onRecovered: () => {
      resyncSockets(users, sessions, sessions.all()).then(
        (result) => log.info(result, 'sockets re-checked after the relay outage'),
        (err: unknown) => log.warn({ err }, 'socket re-check after the relay outage failed'),
      );
    },
  };
  const cluster = config.REDIS_URL || config.REDIS_CLUSTER_NODES ? await import('./cluster.js') : undefined;
  const pubsub: PubSub = cluster && config.REDIS_URL
    ? await cluster.createRedisPubSub({ ...relayOptions, url: config.REDIS_URL })
    : cluster && config.REDIS_CLUSTER_NODES
      ? await cluster.createRedisClusterPubSub({ ...relayOptions, seeds: config.REDIS_CLUSTER_NODES })
      : createLocalPubSub(app, hooks);

  // Attempt counters shared by the cluster, so N nodes do not give an attacker N times the limit.
  // Commands never queue while Redis is down: the limiter falls back to per-node memory then.
  const limitsRedis = cluster?.createStoreClient(config, 'relay-limits');

  // Presence changes are pushed through the transport (which counts them for the metrics).
  const presenceStore = createPresenceStore(sql);
  const onPresenceChange = createPresenceNotifier({ store: presenceStore, pubsub: () => pubsub, log });
  const timings = { graceMs: config.PRESENCE_GRACE_MS, nodeTtlMs: config.PRESENCE_NODE_TTL_MS, sweepMs: config.PRESENCE_SWEEP_MS };
  // Claims shared by the cluster (one Redis, or a Redis Cluster: its keys are bucketed by hash tag).
  const presenceRedis = cluster?.createStoreClient(config, 'relay-presence');
  const presence: Presence = cluster && presenceRedis
    ? await cluster.createRedisPresence({ client: presenceRedis, prefix: config.REDIS_PREFIX, timings, log, onChange: onPresenceChange })
    : createLocalPresence(timings, onPresenceChange);
  const typing = new TypingThrottle();
  const storage = await openStorage(config);
  const files = createFiles(sql);
  const signer = createSigner(secret, config.FILE_URL_TTL);
  const fileService = createFileService({
    files, storage, signer, log,
    limits: { maxBytes: config.MAX_UPLOAD_BYTES, quotaBytes: config.UPLOAD_QUOTA_BYTES, maxPixels: config.IMAGE_MAX_PIXELS, urlTtlSeconds: config.FILE_URL_TTL },
  });
  // Before listening: the node's row in push_nodes must exist before its sockets are written.
  push = await startPush({ sql, config, log, counters: metrics.pushCounters });
  const pushed = push;

  const services: Services = {
    config, log, sql, users, groups: createGroups(sql), tokens, pubsub, sessions,
    messages: createMessages(sql, signer, { outbox: config.PUSH_ENABLED, onStored: () => pushed.kick() }),
    presenceStore, presence, typing, blocks: createBlocks(sql), search: createSearch(sql, signer), mutes: createMutes(sql), push: pushed,
    files, fileService, signer,
    limits: createLimits(config.AUTH_RATE_PER_MINUTE, config.UPLOAD_RATE_PER_MINUTE, limitsRedis && { client: limitsRedis, prefix: config.REDIS_PREFIX }, metrics.countAuthRefusal),
    metrics, inflight,
    authenticate: (token) => authenticate(tokens, users.authState, token),
    authenticateSocket: (token) => authenticate(tokens, users.socketState, token),
    isClosing: () => closing,
  };
  mountApp(app, services);
  const stopSweeps = [
    startSlowConsumerSweep(sessions, config.WS_MAX_BACKPRESSURE, metrics), startExpirySweep(sessions),
    startFileSweeper({ sql, fileService, ttlSeconds: config.FILE_ORPHAN_TTL, everyMs: config.FILE_SWEEP_MS, log }),
  ];

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(config.HOST, config.PORT, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`cannot listen on ${config.HOST}:${config.PORT} (in use, or not allowed)`));
    });
  });
  const port = uws.us_socket_local_port(listenSocket as never);
  log.info({ port, host: config.HOST, database: embedded ? 'embedded' : 'external', cluster: Boolean(config.REDIS_URL || config.REDIS_CLUSTER_NODES), broker: config.REDIS_CLUSTER_NODES ? 'redis-cluster' : config.REDIS_URL ? 'redis' : 'local' }, 'listening');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      closing = true;
      uws.us_listen_socket_close(listenSocket);
      for (const stopSweep of stopSweeps) stopSweep();
      const drained = await inflight.idle(config.SHUTDOWN_GRACE_MS);
      if (!drained) log.warn({ inFlight: inflight.size }, 'shutdown grace period over with work in flight');
      for (const ws of sessions.all()) ws.end(CloseCode.GOING_AWAY, 'Server shutting down');
      typing.stop();
      await pushed.stop();
      await presence.close();
      await pubsub.close();
      limitsRedis?.disconnect();
      storage.close();
      await sql.end({ timeout: 5 });
      await embedded?.stop();
      log.info('stopped');
    })());

  return { port, services, stop };
}

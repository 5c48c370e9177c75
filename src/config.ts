import * as v from 'valibot';

const port = v.pipe(
  v.optional(v.string(), '3000'),
  v.regex(/^\d+$/, 'must be a whole number'),
  v.transform(Number),
  v.maxValue(65535, 'must be at most 65535'),
);

const positiveInt = (fallback: number, max = 2 ** 31 - 1) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.minValue(1, 'must be at least 1'),
    v.maxValue(max, `must be at most ${max}`),
  );

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `JWT_TTL` (and the other durations): seconds ("3600") or a number with a unit ("15m", "24h", "7d"). */
const durationOf = (fallback: string) => v.pipe(
  v.optional(v.string(), fallback),
  v.regex(/^\d+[smhd]?$/, 'must be seconds or a number with s, m, h or d (e.g. 24h)'),
  v.transform((text) => {
    const unit = /[smhd]$/.test(text) ? text.slice(-1) : 's';
    return Number.parseInt(text, 10) * (UNIT_SECONDS[unit] ?? 1);
  }),
  v.minValue(1, 'must be at least one second'),
);
const duration = durationOf('24h');

const MiB = 1024 * 1024;

const boolFlag = v.pipe(
  v.optional(v.picklist(['', '0', '1', 'true', 'false']), ''),
  v.transform((flag) => flag === '1' || flag === 'true'),
);

const url = (schemes: string[]) =>
  v.optional(
    v.pipe(
      v.string(),
      v.url('must be a URL'),
      v.check((u) => schemes.some((s) => u.startsWith(`${s}://`)), `must start with ${schemes.join(':// or ')}://`),
    ),
  );

/** One seed node of REDIS_CLUSTER_NODES: `host:port`, or a redis:// / rediss:// URL like REDIS_URL. */
const SEED = /^(?:(rediss?):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?)?([\w.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\/?$/;

export interface RedisClusterSeeds {
  nodes: { host: string; port: number }[];
  /** From the URL form (as in REDIS_URL): the same on every entry that has them. */
  username?: string;
  password?: string;
  tls: boolean;
}

/** Reads the seed list; throws a message for the first entry that is not a seed node. */
export function parseClusterSeeds(text: string): RedisClusterSeeds {
  const out: RedisClusterSeeds = { nodes: [], tls: false };
  const schemes = new Set<string>();
  const creds = new Set<string>();
  for (const entry of text.split(',').map((e) => e.trim())) {
    const m = SEED.exec(entry);
    const port = m ? Number(m[5]) : 0;
    // The entry itself is not echoed: in the URL form it may hold a password.
    if (!m || port < 1 || port > 65535) throw new Error(`entry ${out.nodes.length + 1} must be host:port or redis[s]://[user:password@]host:port`);
    out.nodes.push({ host: m[4]!.replace(/^\[|\]$/g, ''), port });
    if (m[1]) {
      schemes.add(m[1]);
      creds.add(JSON.stringify([m[2] ?? '', m[3] ?? '']));
      if (m[2]) out.username = decodeURIComponent(m[2]);
      if (m[3]) out.password = decodeURIComponent(m[3]);
    }
  }
  if (schemes.size > 1) throw new Error('redis:// and rediss:// entries cannot be mixed (TLS is for the whole cluster)');
  if (creds.size > 1) throw new Error('entries with different credentials (one user and password for the whole cluster)');
  out.tls = schemes.has('rediss');
  return out;
}

const clusterSeeds = v.optional(
  v.pipe(
    v.string(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      try {
        return parseClusterSeeds(dataset.value);
      } catch (err) {
        addIssue({ message: (err as Error).message });
        return NEVER;
      }
    }),
  ),
);

const EnvSchema = v.object({
  PORT: port,
  HOST: v.optional(v.pipe(v.string(), v.nonEmpty()), '0.0.0.0'),
  DATABASE_URL: url(['postgres', 'postgresql']),
  DATA_DIR: v.optional(v.pipe(v.string(), v.nonEmpty()), './.data'),
  JWT_SECRET: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters'))),
  JWT_TTL: duration,
  LOG_LEVEL: v.optional(v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  REDIS_URL: url(['redis', 'rediss']),
  /** Seed nodes of a Redis Cluster (instead of REDIS_URL): pushes go through sharded pub/sub. */
  REDIS_CLUSTER_NODES: clusterSeeds,
  REDIS_PREFIX: v.optional(v.pipe(v.string(), v.regex(/^[\w:.-]{1,64}$/, 'must be 1..64 of [A-Za-z0-9_:.-]')), 'relay:'),
  DB_POOL_MAX: positiveInt(10, 200),
  MAX_BODY_BYTES: positiveInt(16 * 1024, 16 * 1024 * 1024),
  WS_IDLE_TIMEOUT: positiveInt(120, 960),
  WS_MAX_BACKPRESSURE: positiveInt(1024 * 1024),
  MAX_CONNECTIONS_PER_USER: positiveInt(20, 10_000),
  WS_RATE_PER_SECOND: positiveInt(200, 1_000_000),
  WS_RATE_BURST: positiveInt(400, 1_000_000),
  AUTH_RATE_PER_MINUTE: positiveInt(20, 1_000_000),
  SHUTDOWN_GRACE_MS: positiveInt(5000, 600_000),
  UWS_ALLOW_FALLBACK: boolFlag,
  // Presence (PROTOCOL.md v1.1): grace after a user's last socket closes; in a cluster, how long a
  // node's claim on its users lives unrenewed (a dead node's users go offline within this plus a
  // sweep: at most 60 s), and how often lapsed graces and claims are looked for.
  PRESENCE_GRACE_MS: positiveInt(10_000, 600_000),
  PRESENCE_NODE_TTL_MS: positiveInt(30_000, 50_000),
  PRESENCE_SWEEP_MS: positiveInt(1_000, 10_000),
  // Notifications to offline devices (PROTOCOL.md v1.2; src/push/). PUSH_ENABLED=0 stores no
  // outbox rows and runs no worker (subscriptions are still kept).
  PUSH_ENABLED: v.pipe(v.optional(v.picklist(['0', '1', 'true', 'false']), '1'), v.transform((f) => f === '1' || f === 'true')),
  // VAPID (RFC 8292): all nodes of a cluster must share them (required with REDIS_URL or
  // REDIS_CLUSTER_NODES, like JWT_SECRET); without them, keys made on first start are kept in
  // DATA_DIR (like the JWT secret).
  VAPID_PUBLIC_KEY: v.optional(v.pipe(v.string(), v.regex(/^[\w-]{87}$/, 'must be an uncompressed P-256 public key, base64url (87 characters)'))),
  VAPID_PRIVATE_KEY: v.optional(v.pipe(v.string(), v.regex(/^[\w-]{43}$/, 'must be a P-256 private key, base64url (43 characters)'))),
  VAPID_SUBJECT: v.optional(v.pipe(v.string(), v.regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, 'must be a mailto: or https: URL')), 'mailto:push@relay.invalid'),
  // The only hosts the server posts Web Push to (comma-separated; "*.example.com" admits
  // subdomains). Default: the push services of Chrome, Firefox, Edge and Safari.
  PUSH_ENDPOINT_HOSTS: v.optional(v.pipe(v.string(), v.regex(/^[\w.*:-]+(,[\w.*:-]+)*$/, 'must be host names separated by commas')),
    'fcm.googleapis.com,updates.push.services.mozilla.com,*.notify.windows.com,web.push.apple.com'),
  /** Tests with a local push service: admits http: on PUSH_ENDPOINT_HOSTS too. */
  PUSH_ALLOW_HTTP: boolFlag,
  PUSH_WEBHOOK_URL: url(['https', 'http']),
  PUSH_WEBHOOK_SECRET: v.optional(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters'))),
  // Folding window, retry backoff base and give-up age, per-request timeout, deliveries in flight
  // per node, how often the queue is polled, how long a node's socket rows live unrenewed.
  PUSH_FOLD_MS: positiveInt(5_000, 600_000),
  PUSH_RETRY_BASE_MS: positiveInt(1_000, 600_000),
  PUSH_RETRY_MAX_AGE_MS: positiveInt(3_600_000, 86_400_000),
  PUSH_TIMEOUT_MS: positiveInt(10_000, 120_000),
  PUSH_CONCURRENCY: positiveInt(64, 10_000),
  PUSH_POLL_MS: positiveInt(500, 60_000),
  PUSH_NODE_TTL_MS: positiveInt(30_000, 600_000),
  // Files (PROTOCOL.md v1.2 "Files"). FILES_DIR: the local folder (default DATA_DIR/files); with
  // S3_BUCKET the bytes go to S3-compatible storage instead.
  FILES_DIR: v.optional(v.pipe(v.string(), v.nonEmpty())),
  MAX_UPLOAD_BYTES: positiveInt(25 * MiB, Number.MAX_SAFE_INTEGER),
  UPLOAD_QUOTA_BYTES: positiveInt(1024 * MiB, Number.MAX_SAFE_INTEGER),
  UPLOAD_RATE_PER_MINUTE: positiveInt(60, 1_000_000),
  FILE_URL_TTL: durationOf('1h'),
  FILE_ORPHAN_TTL: durationOf('24h'),
  FILE_SWEEP_MS: positiveInt(60_000, 86_400_000),
  // Images with more pixels than this are kept as plain files (no decode: a decompression bomb
  // costs nothing). 40 MP holds every camera photo; decoded as RGBA it is 160 MB at worst.
  IMAGE_MAX_PIXELS: positiveInt(40_000_000, 268_402_689),
  S3_BUCKET: v.optional(v.pipe(v.string(), v.nonEmpty())),
  S3_ENDPOINT: url(['http', 'https']),
  S3_REGION: v.optional(v.pipe(v.string(), v.nonEmpty()), 'us-east-1'),
  S3_ACCESS_KEY_ID: v.optional(v.string()),
  S3_SECRET_ACCESS_KEY: v.optional(v.string()),
  S3_FORCE_PATH_STYLE: boolFlag,
});

const SECRET_KEYS = new Set(['JWT_SECRET', 'DATABASE_URL', 'REDIS_URL', 'REDIS_CLUSTER_NODES', 'VAPID_PRIVATE_KEY', 'PUSH_WEBHOOK_SECRET', 'PUSH_WEBHOOK_URL', 'S3_SECRET_ACCESS_KEY']);

export type Config = Readonly<v.InferOutput<typeof EnvSchema>>;

export class ConfigError extends Error {}

/** Parses the environment once at start; a bad value stops the process with a message naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.entries)) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const result = v.safeParse(EnvSchema, picked);
  if (!result.success) {
    const lines = result.issues.map((issue) => {
      const key = issue.path?.map((p) => String(p.key)).join('.') ?? '?';
      // A secret or a URL with a password in it must not reach a terminal or a log.
      const shown = SECRET_KEYS.has(key) ? '' : `=${JSON.stringify(picked[key] ?? '')}`;
      return `  ${key}${shown}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const { REDIS_URL, REDIS_CLUSTER_NODES } = result.output;
  if (REDIS_URL && REDIS_CLUSTER_NODES) {
    throw new ConfigError('invalid configuration:\n  REDIS_URL, REDIS_CLUSTER_NODES: set one of them (one Redis, or the seed nodes of a Redis Cluster), not both');
  }
  if ((REDIS_URL || REDIS_CLUSTER_NODES) && !result.output.JWT_SECRET) {
    const key = REDIS_URL ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES';
    throw new ConfigError(`invalid configuration:\n  JWT_SECRET: must be set when ${key} is (all nodes of a cluster must share it)`);
  }
  const { VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, PUSH_WEBHOOK_URL, PUSH_WEBHOOK_SECRET } = result.output;
  if (Boolean(VAPID_PUBLIC_KEY) !== Boolean(VAPID_PRIVATE_KEY)) {
    throw new ConfigError('invalid configuration:\n  VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: set both of them (one key pair), or neither');
  }
  // Each node would make its own pair in its own data folder: a browser subscribed through one
  // node would have its pushes from the others refused by the push service (another key).
  if ((REDIS_URL || REDIS_CLUSTER_NODES) && result.output.PUSH_ENABLED && !VAPID_PUBLIC_KEY) {
    const key = REDIS_URL ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES';
    throw new ConfigError(`invalid configuration:\n  VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: must be set when ${key} is (all nodes of a cluster must share one key pair; make one with \`npx web-push generate-vapid-keys\`), or set PUSH_ENABLED=0`);
  }
  if (PUSH_WEBHOOK_URL && !PUSH_WEBHOOK_SECRET) {
    throw new ConfigError('invalid configuration:\n  PUSH_WEBHOOK_SECRET: must be set when PUSH_WEBHOOK_URL is (the receiver checks the signature)');
  }
  // Each node would keep its own uploads in its own default folder: a file uploaded through one
  // node would be 404 on the others. A shared folder must be named on purpose.
  if ((REDIS_URL || REDIS_CLUSTER_NODES) && !result.output.S3_BUCKET && !result.output.FILES_DIR) {
    const key = REDIS_URL ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES';
    throw new ConfigError(`invalid configuration:\n  FILES_DIR: must be set when ${key} is (a folder every node shares), or set S3_BUCKET: each node's default DATA_DIR/files would hold only the files uploaded through that node`);
  }
  return Object.freeze(result.output);
}

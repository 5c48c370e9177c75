import postgres from 'postgres';
import type { Logger } from '../log.js';
import { isStoreUnavailable } from './errors.js';

export type Sql = postgres.Sql<Record<string, never>>;

export interface DbOptions {
  max: number;
  log: Logger;
}

/** What /metrics reads about database use; postgres.js keeps no pool statistics of its own. */
export interface DbStats {
  readonly max: number;
  /** Queries and transactions waiting for a connection or running on one. */
  inFlight: number;
  /** Settled queries and transactions: `failed` the database refused, `unavailable` it could not be reached. */
  ok: number;
  failed: number;
  unavailable: number;
  /** Refused at once, without trying, while the database was known to be unreachable. */
  shed: number;
  /** False from a failure to reach the database until the next success. */
  available: boolean;
}

// Once a query finds the database unreachable, every query fails at once until a probe (`select 1`,
// tried this often, one at a time) gets an answer. Without this, queries queue inside postgres.js
// behind reconnect attempts, each refused attempt failing only one of them: errors then take tens
// of seconds, and a client's requests wait behind each other.
const PROBE_EVERY_MS = 250;
// A query with no answer by then (give or take a second) fails as "unavailable": a frozen server or
// a dead link would otherwise hold it (and the connection's queue behind it) until TCP keepalive
// gives up, minutes later. Transactions have no such deadline: migrations run in one.
const QUERY_DEADLINE_MS = 10_000;
// Reconnect delay in seconds after `retries` failed attempts: 50 ms doubling up to 1 s. postgres.js's
// own grows to 20 s, which is how long recovery would then take after the database is back.
const backoff = (retries: number): number => Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2);

const statsOf = new WeakMap<object, DbStats>();

/** The statistics of a client made by createSql. */
export const dbStats = (sql: Sql): DbStats | undefined => statsOf.get(sql);

const errorWithCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

export function createSql(url: string, { max, log }: DbOptions): Sql {
  const sql = postgres(url, {
    max,
    // Statements are prepared once per connection and reused: the hot paths are a handful of queries.
    prepare: true,
    idle_timeout: 60,
    // A database that does not answer must turn into an error for the client, not a hang.
    connect_timeout: 5,
    backoff,
    onnotice: (notice) => log.debug({ notice: notice.message }, 'postgres notice'),
    connection: { application_name: 'relay' },
    types: {
      // bigint message ids stay below 2^53 for this schema's lifetime; numbers keep the wire format simple.
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
  }) as unknown as Sql;

  const stats: DbStats = { max, inFlight: 0, ok: 0, failed: 0, unavailable: 0, shed: 0, available: true };
  let downSince = 0;
  let prober: NodeJS.Timeout | undefined;
  let probing = false;
  let ended = false;

  const markUp = (): void => {
    if (downSince === 0) return;
    log.warn({ downMs: Date.now() - downSince }, 'database reachable again');
    downSince = 0;
    stats.available = true;
    clearInterval(prober);
    prober = undefined;
  };

  const markDown = (err: unknown): void => {
    if (downSince !== 0 || ended) return;
    downSince = Date.now();
    stats.available = false;
    log.warn({ err }, 'database unreachable; failing fast until it answers');
    // One probe at a time, never a client's request: a probe of a frozen server waits for its answer
    // as long as it takes, and only its answer says the database is back.
    prober = setInterval(() => {
      if (probing || ended) return;
      probing = true;
      sql`select 1`.then(markUp, () => undefined).finally(() => { probing = false; });
    }, PROBE_EVERY_MS);
    prober.unref();
  };

  // Deadlines: one sweep a second over the queries waiting for an answer, oldest first (cheaper than
  // a timer per query on the hot path; a deadline is met within a second).
  const waiting = new Set<{ due: number; expire(): void }>();
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    const now = Date.now();
    for (const entry of waiting) {
      if (entry.due > now) break;
      entry.expire();
    }
    if (waiting.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };

  /**
   * Runs `start` (which reports through `done`) unless the database is known to be down: then it
   * fails at once. Counts the outcome and tells the breaker.
   */
  function run<T>(start: (done: (ok: boolean, result: unknown) => void) => void, deadline: boolean): Promise<T> {
    if (downSince !== 0) {
      stats.shed++;
      return Promise.reject(errorWithCode('The database is unreachable', 'DB_UNREACHABLE'));
    }
    stats.inFlight++;
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const entry = deadline
        ? { due: Date.now() + QUERY_DEADLINE_MS, expire: () => answer(false, errorWithCode(`No answer from the database in ${QUERY_DEADLINE_MS} ms`, 'QUERY_TIMEOUT')) }
        : undefined;
      const answer = (ok: boolean, result: unknown): void => {
        if (answered) return;
        answered = true;
        if (entry) waiting.delete(entry);
        if (ok) {
          stats.ok++;
          markUp();
          resolve(result as T);
          return;
        }
        if (isStoreUnavailable(result)) {
          stats.unavailable++;
          markDown(result);
        } else {
          stats.failed++;
        }
        reject(result);
      };
      if (entry) {
        waiting.add(entry);
        if (!sweeper) (sweeper = setInterval(sweep, 1000)).unref();
      }
      start((ok, result) => {
        stats.inFlight--;
        answer(ok, result);
      });
    });
  }

  /** A postgres.js query runs when first awaited: guard that moment, keep the object (fragments, .values()). */
  function guard<Q extends object>(query: Q): Q {
    type Handler = ((x: unknown) => unknown) | null | undefined;
    const q = query as unknown as { then: (ok: Handler, ko: Handler) => unknown; catch: unknown; finally: unknown };
    const then = q.then;
    let outcome: Promise<unknown> | undefined;
    const start = (): Promise<unknown> =>
      (outcome ??= run((done) => { then.call(q, (rows) => done(true, rows), (err) => done(false, err)); }, true));
    q.then = (ok, ko) => start().then(ok, ko);
    q.catch = (ko: Handler) => start().catch(ko);
    q.finally = (f?: () => void) => start().finally(f);
    return query;
  }

  const isTemplate = (x: unknown): boolean => Array.isArray(x) && 'raw' in x;
  const proxy = new Proxy(sql, {
    apply(target, self, args: unknown[]) {
      const result: unknown = Reflect.apply(target, self, args);
      return isTemplate(args[0]) ? guard(result as object) : result;
    },
    get(target, key, receiver) {
      if (key === 'begin') {
        return (...args: unknown[]) => run((done) => {
          (target.begin as (...a: unknown[]) => Promise<unknown>)(...args).then((v) => done(true, v), (err: unknown) => done(false, err));
        }, false);
      }
      if (key === 'unsafe') return (...args: unknown[]) => guard((target.unsafe as (...a: unknown[]) => object)(...args));
      if (key === 'end') {
        return (...args: unknown[]) => {
          ended = true;
          clearInterval(prober);
          clearInterval(sweeper);
          return (target.end as (...a: unknown[]) => Promise<void>)(...args);
        };
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  statsOf.set(proxy, stats);
  return proxy;
}

/** postgres.js errors with SQLSTATE codes; everything else (network, timeouts) is "store unavailable". */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

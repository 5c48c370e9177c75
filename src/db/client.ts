import postgres from 'postgres';
import type { Logger } from '../log.js';
import { isStoreUnavailable } from './errors.js';
import { createGate, type DbStats } from './breaker.js';

export type { DbStats };

export type Sql = postgres.Sql<Record<string, never>>;

export interface DbOptions {
  max: number;
  log: Logger;
}

// The breaker's probe interval and the query deadline (see breaker.ts). Transactions have no
// deadline: migrations run in one.
const PROBE_EVERY_MS = 250;
const QUERY_DEADLINE_MS = 10_000;
// Reconnect delay in seconds after `retries` failed attempts: 50 ms doubling up to 1 s. postgres.js's
// own grows to 20 s, which is how long recovery would then take after the database is back.
const backoff = (retries: number): number => Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2);

const statsOf = new WeakMap<object, DbStats>();

/** The statistics of a client made by createSql. */
export const dbStats = (sql: Sql): DbStats | undefined => statsOf.get(sql);

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
    // No JIT: every statement here is a short index-path query, and the batched history reads
    // are costed for 100 items whatever the batch (historyReads.ts), which a larger table would
    // push past jit_above_cost: compiling then costs tens of milliseconds per execution.
    connection: { application_name: 'relay', jit: 'off' },
    types: {
      // bigint message ids stay below 2^53 for this schema's lifetime; numbers keep the wire format simple.
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
  }) as unknown as Sql;

  const gate = createGate({
    max,
    isUnavailable: isStoreUnavailable,
    probe: () => sql`select 1`,
    probeEveryMs: PROBE_EVERY_MS,
    deadlineMs: QUERY_DEADLINE_MS,
    onDown: (err) => log.warn({ err }, 'database unreachable; failing fast until it answers'),
    onUp: (downMs) => log.warn({ downMs }, 'database reachable again'),
  });
  const run = gate.run;

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
          gate.end();
          return (target.end as (...a: unknown[]) => Promise<void>)(...args);
        };
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  statsOf.set(proxy, gate.stats);
  return proxy;
}

/** True for PostgreSQL's unique_violation (SQLSTATE 23505): the row already exists. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/*
 * The database client's fail-fast breaker and query deadline, apart from postgres.js so that
 * they are unit-tested with fake timers and no database.
 *
 * Breaker: once a query finds the database unreachable, every query fails at once until a probe
 * (tried every `probeEveryMs`, one at a time) gets an answer. Without this, queries queue inside
 * postgres.js behind reconnect attempts, each refused attempt failing only one of them: errors
 * then take tens of seconds, and a client's requests wait behind each other.
 *
 * Deadline: a query with no answer by `deadlineMs` (give or take one sweep) fails as
 * "unavailable": a frozen server or a dead link would otherwise hold it (and the connection's
 * queue behind it) until TCP keepalive gives up, minutes later.
 */

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

export interface GateOptions {
  max: number;
  /** Tells an unreachable database from a query it refused. */
  isUnavailable(err: unknown): boolean;
  /** One probe query (`select 1`); its success closes the breaker. */
  probe(): Promise<unknown>;
  probeEveryMs: number;
  deadlineMs: number;
  /** How often deadlines are checked (one sweep instead of a timer per query on the hot path). */
  sweepEveryMs?: number;
  onDown?(err: unknown): void;
  onUp?(downMs: number): void;
}

/** Starts one query or transaction and reports its outcome through `done`. */
export type Start = (done: (ok: boolean, result: unknown) => void) => void;

export interface Gate {
  readonly stats: DbStats;
  /** Runs `start` unless the database is known to be down (then fails at once); counts the outcome. */
  run<T>(start: Start, deadline: boolean): Promise<T>;
  /** Stops the probe and the sweep (the client is ending). */
  end(): void;
}

const errorWithCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

export function createGate(o: GateOptions): Gate {
  const stats: DbStats = { max: o.max, inFlight: 0, ok: 0, failed: 0, unavailable: 0, shed: 0, available: true };
  let downSince = 0;
  let prober: NodeJS.Timeout | undefined;
  let probing = false;
  let ended = false;

  const markUp = (): void => {
    if (downSince === 0) return;
    o.onUp?.(Date.now() - downSince);
    downSince = 0;
    stats.available = true;
    clearInterval(prober);
    prober = undefined;
  };

  const markDown = (err: unknown): void => {
    if (downSince !== 0 || ended) return;
    downSince = Date.now();
    stats.available = false;
    o.onDown?.(err);
    // One probe at a time, never a client's request: a probe of a frozen server waits for its answer
    // as long as it takes, and only its answer says the database is back.
    prober = setInterval(() => {
      if (probing || ended) return;
      probing = true;
      o.probe().then(markUp, () => undefined).finally(() => { probing = false; });
    }, o.probeEveryMs);
    prober.unref();
  };

  // Entries in insertion order, which is deadline order: the sweep stops at the first not due.
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

  function run<T>(start: Start, deadline: boolean): Promise<T> {
    if (downSince !== 0) {
      stats.shed++;
      return Promise.reject(errorWithCode('The database is unreachable', 'DB_UNREACHABLE'));
    }
    stats.inFlight++;
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const entry = deadline
        ? { due: Date.now() + o.deadlineMs, expire: () => answer(false, errorWithCode(`No answer from the database in ${o.deadlineMs} ms`, 'QUERY_TIMEOUT')) }
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
        if (o.isUnavailable(result)) {
          stats.unavailable++;
          markDown(result);
        } else {
          stats.failed++;
        }
        reject(result);
      };
      if (entry) {
        waiting.add(entry);
        if (!sweeper) (sweeper = setInterval(sweep, o.sweepEveryMs ?? 1000)).unref();
      }
      start((ok, result) => {
        stats.inFlight--;
        answer(ok, result);
      });
    });
  }

  return {
    stats,
    run,
    end() {
      ended = true;
      clearInterval(prober);
      clearInterval(sweeper);
    },
  };
}

import postgres from 'postgres';
import type { Logger } from '../log.js';

export type Sql = postgres.Sql<Record<string, never>>;

export interface DbOptions {
  max: number;
  log: Logger;
}

export function createSql(url: string, { max, log }: DbOptions): Sql {
  return postgres(url, {
    max,
    // Statements are prepared once per connection and reused: the hot paths are a handful of queries.
    prepare: true,
    idle_timeout: 60,
    // A database that does not answer must turn into an error for the client, not a hang.
    connect_timeout: 5,
    onnotice: (notice) => log.debug({ notice: notice.message }, 'postgres notice'),
    connection: { application_name: 'relay' },
    types: {
      // bigint message ids stay below 2^53 for this schema's lifetime; numbers keep the wire format simple.
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
  }) as unknown as Sql;
}

/** postgres.js errors with SQLSTATE codes; everything else (network, timeouts) is "store unavailable". */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** A throw-away database per scenario on the local PostgreSQL, so runs never see each other's rows. */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface FreshDatabase {
  readonly name: string;
  /** The same server as the admin URL, pointing at the new database. */
  readonly url: string;
  /** Drops it, disconnecting whoever still uses it; safe to call twice. */
  drop(): Promise<void>;
}

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

const PREFIX = 'relay_bench_';
/** No run lasts this long: an older bench database was left by a killed run. */
const STALE_AFTER_MS = 2 * 3600 * 1000;

/** The name carries its creation time, so a later run can tell a leftover from a live one. */
function freshName(): string {
  return `${PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

function createdAt(name: string): number | null {
  const match = /^relay_bench_([0-9a-z]+)_[0-9a-f]+$/.exec(name);
  return match?.[1] === undefined ? null : parseInt(match[1], 36);
}

/** Drops bench databases left behind by runs that were killed before their cleanup (older than 2 h). */
export async function dropStaleDatabases(adminUrl: string): Promise<string[]> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    const rows = await sql<{ datname: string }[]>`select datname from pg_database where datname like ${`${PREFIX}%`}`;
    const stale = rows.map((row) => row.datname).filter((name) => {
      const created = createdAt(name);
      return created !== null && Date.now() - created > STALE_AFTER_MS;
    });
    for (const name of stale) await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    return stale;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function createFreshDatabase(adminUrl: string): Promise<FreshDatabase> {
  const name = freshName();
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  let dropped = false;
  return {
    name,
    url: withDatabase(adminUrl, name),
    async drop() {
      if (dropped) return;
      dropped = true;
      const sql = postgres(adminUrl, { max: 1, onnotice: () => undefined });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}

/** True when the admin URL answers; the smoke test skips without a local PostgreSQL. */
export async function canReach(adminUrl: string): Promise<boolean> {
  const sql = postgres(adminUrl, { max: 1, connect_timeout: 3, onnotice: () => undefined });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Process ids of the PostgreSQL backends serving a database (to meter the database's CPU). */
export async function backendPids(sql: postgres.Sql, database: string): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${database} and pid <> pg_backend_pid()`;
  return rows.map((row) => row.pid);
}

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import type { Sql } from './client.js';
import type { Logger } from '../log.js';

/** sql/ at the package root. */
export function defaultMigrationsDir(): string {
  return path.join(packageRoot(), 'sql');
}

// Any constant works; it only has to be the same on every node.
const MIGRATION_LOCK = 7_245_011;

/**
 * Applies sql/NNN_*.sql in order, each once, recorded in schema_migrations. The whole run is one
 * transaction holding an advisory lock (two nodes starting together take turns instead of racing
 * on the same file), and each file runs in a savepoint of its own: a file that fails is rolled
 * back, and so is the run (none of the files of this run stays applied).
 */
export async function migrate(sql: Sql, log: Logger, dir = defaultMigrationsDir()): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  const applied: string[] = [];
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`create table if not exists schema_migrations (
      name text primary key,
      applied_at timestamptz not null default now()
    )`;
    const done = new Set((await tx<{ name: string }[]>`select name from schema_migrations`).map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) continue;
      const text = await readFile(path.join(dir, file), 'utf8');
      // A savepoint per file: a failure names its file, and the lock still spans the run.
      await tx.savepoint(async (sp) => {
        await sp.unsafe(text);
        await sp`insert into schema_migrations (name) values (${file})`;
      });
      applied.push(file);
      log.info({ migration: file }, 'migration applied');
    }
  });
  return applied;
}

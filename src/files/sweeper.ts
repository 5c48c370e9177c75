import type { Sql } from '../db/client.js';
import type { Logger } from '../log.js';
import type { FileService } from './service.js';

// The lock that makes one node of a cluster sweep at a time (any constant, the same on every node).
const SWEEP_LOCK = 7_245_124;
// Files per statement: a backlog is worked off over several rounds, none holding locks for long.
const BATCH = 500;

/**
 * Deletes files that no message carries once they are older than FILE_ORPHAN_TTL: the rows in a
 * transaction that holds an advisory lock (another node that tries meanwhile skips its round),
 * then, once committed, their bytes. A file is 404 from the moment its row is gone; bytes whose
 * delete fails are logged and stay unreachable. Returns a stop function.
 */
export function startFileSweeper(deps: { sql: Sql; fileService: FileService; ttlSeconds: number; everyMs: number; log: Logger }): () => void {
  const { sql, fileService, ttlSeconds, everyMs, log } = deps;
  let running = false;
  const round = async (): Promise<void> => {
    type Swept = { id: string; hasThumbnail: boolean };
    const swept = await sql.begin(async (tx): Promise<Swept[]> => {
      const [lock] = await tx<{ ok: boolean }[]>`select pg_try_advisory_xact_lock(${SWEEP_LOCK}) as ok`;
      if (!lock?.ok) return [];
      return [...await tx<Swept[]>`
        delete from files where id in (
          select f.id from files f
          where f.created_at < now() - make_interval(secs => ${ttlSeconds})
            and not exists (select 1 from message_attachments a where a.file_id = f.id)
          order by f.created_at
          limit ${BATCH}
          for update skip locked)
        returning id, has_thumbnail as "hasThumbnail"`];
    });
    for (const f of swept) fileService.forget(f.id, f.hasThumbnail);
    if (swept.length > 0) log.info({ files: swept.length }, 'orphan files swept');
  };
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    round().catch((err: unknown) => log.warn({ err }, 'file sweep failed; next round retries')).finally(() => { running = false; });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

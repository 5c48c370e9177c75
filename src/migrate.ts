/** `npm run migrate`: applies sql/ to DATABASE_URL (or the embedded database) and exits. */
import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { createSql } from './db/client.js';
import { migrate } from './db/migrate.js';
import { startEmbeddedPostgres } from './db/embedded.js';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);
const embedded = config.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: config.DATA_DIR, log });
const sql = createSql(config.DATABASE_URL ?? embedded!.url, { max: 1, log });
try {
  const applied = await migrate(sql, log);
  log.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
} finally {
  await sql.end({ timeout: 5 });
  await embedded?.stop();
}

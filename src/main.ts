import { loadConfig, ConfigError } from './config.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  process.stderr.write(`relay: ${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(2);
}
const log = createLogger(config.LOG_LEVEL);

try {
  const server = await startServer(config, log);
  let signalled = false;
  const shutdown = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down');
    // Armed first: whatever hangs, the process is gone within the grace period plus a margin.
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS + 10_000).unref();
    server.stop().then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  log.fatal({ err }, 'failed to start');
  // Let pino flush before leaving.
  setTimeout(() => process.exit(1), 50);
}

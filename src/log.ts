import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout; secrets are redacted wherever a caller might pass them by mistake. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: {
      paths: ['password', '*.password', 'oldPassword', 'newPassword', 'token', '*.token', 'authorization', '*.authorization', 'DATABASE_URL', 'JWT_SECRET'],
      censor: '[redacted]',
    },
  });
}

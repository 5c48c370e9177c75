import { CloseCode } from '../protocol.js';
import type { SocketRegistry } from './sessions.js';

/**
 * Closes sockets whose token expired (4001). One sweep for all sockets instead of a timer each:
 * per-socket timers with distinct delays cost Node a timer list apiece, which shows in memory
 * per idle connection.
 */
export function startExpirySweep(sessions: SocketRegistry, everyMs = 500): () => void {
  const timer = setInterval(() => {
    const now = Date.now() / 1000;
    sessions.forEach((ws) => {
      const session = ws.getUserData();
      if (session.exp <= now && !session.closed) ws.end(CloseCode.TOKEN_EXPIRED, 'Token expired');
    });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

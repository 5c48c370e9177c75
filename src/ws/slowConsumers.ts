import { CloseCode } from '../protocol.js';
import type { Socket } from '../pubsub/types.js';
import type { SessionRegistry } from './sessions.js';
import type { Metrics } from '../metrics.js';

// Grace for a slow reader to take its close frame before the TCP connection is cut.
const FORCE_CLOSE_AFTER_MS = 2000;

/**
 * Closes a connection whose unread output passed the limit, with 1013 (try again later), and
 * cuts it if it does not even read the close frame. A client told so reconnects and catches up
 * with `afterId`; nothing is dropped from it silently while it stays open.
 */
export function closeSlow(ws: Socket, metrics: Metrics): void {
  const session = ws.getUserData();
  if (session.closed) return;
  metrics.backpressureCloses.inc();
  ws.end(CloseCode.TRY_AGAIN_LATER, 'Too slow to read');
  setTimeout(() => { if (!session.closed) ws.close(); }, FORCE_CLOSE_AFTER_MS).unref();
}

/**
 * uWS fans pushes out in C++ without telling us per socket how far behind each reader is, so a
 * sweep checks every socket's buffer. Between sweeps uWS's own cap (twice the limit) bounds memory.
 */
export function startSlowConsumerSweep(sessions: SessionRegistry, limitBytes: number, metrics: Metrics, everyMs = 250): () => void {
  const timer = setInterval(() => {
    for (const ws of sessions.all()) {
      if (ws.getBufferedAmount() > limitBytes) closeSlow(ws, metrics);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

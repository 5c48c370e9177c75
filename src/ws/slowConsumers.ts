import { CloseCode } from '../protocol.js';
import type { Socket } from './session.js';
import type { SocketRegistry } from './sessions.js';
import type { Metrics } from '../metrics.js';

/**
 * Closes a connection whose unread output passed the limit, with 1013 (try again later). A client
 * told so reconnects and catches up with `afterId`.
 *
 * `end()` queues the close frame behind what the reader has not taken yet, calls our close handler at
 * once (the session is closed from here on), and uWS itself cuts the TCP connection when the frame
 * cannot go out soon: a reader that stopped reading usually never sees the 1013, only the connection
 * ending (1006 in a browser). Between the limit and uWS's own cap (twice the limit, see connection.ts) uWS skips
 * pushes to it; it is closed at the next sweep.
 */
export function closeSlow(ws: Socket, metrics: Metrics): void {
  if (ws.getUserData().closed) return;
  metrics.backpressureCloses.inc();
  ws.end(CloseCode.TRY_AGAIN_LATER, 'Too slow to read');
}

/**
 * uWS fans pushes out in C++ without telling us per socket how far behind each reader is, so a
 * sweep checks every socket's buffer. Between sweeps uWS's own cap (twice the limit) bounds memory.
 */
export function startSlowConsumerSweep(sessions: SocketRegistry, limitBytes: number, metrics: Metrics, everyMs = 250): () => void {
  const timer = setInterval(() => {
    sessions.forEach((ws) => {
      if (ws.getBufferedAmount() > limitBytes) closeSlow(ws, metrics);
    });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

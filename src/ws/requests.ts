import type { Services } from '../services.js';
import type { Job, Socket } from './session.js';
import { handlers } from './handlers/index.js';
import { ErrorCode, errorFrame, successFrame } from '../protocol.js';
import { STORE_UNAVAILABLE } from '../db/errors.js';
import { parseOrThrow } from '../validate.js';
import { reportFailure } from '../failure.js';
import { closeSlow } from './slowConsumers.js';

/**
 * Runs a connection's requests one at a time, in arrival order: validate → handler → reply
 * frame. Returns `enqueue`, which the socket's message handler calls.
 */
export function createRequestQueue(s: Services): (ws: Socket, job: Job) => void {
  const { config, log, metrics } = s;

  async function run(ws: Socket, job: Job): Promise<string> {
    if (job.kind === 'answer') return job.frame;
    const handler = handlers.get(job.type)!;
    const started = performance.now();
    let outcome: string = 'ok';
    try {
      const params = parseOrThrow(handler.params, job.params);
      const data = await handler.handle({ s, ws, userId: ws.getUserData().userId }, params);
      return successFrame(job.type, data, job.requestId);
    } catch (err) {
      const f = reportFailure(err, { log, count: (kind) => metrics.dbErrors.inc({ kind }) }, 'handler failed', { type: job.type });
      if (f.kind === 'client') {
        outcome = f.code;
        return errorFrame(job.type, f.code, f.message, job.requestId, f.extra);
      }
      outcome = ErrorCode.INTERNAL;
      metrics.handlerErrors.inc({ type: job.type });
      // PROTOCOL.md: an unreachable database is an INTERNAL error on the WebSocket, with its own message.
      return errorFrame(job.type, ErrorCode.INTERNAL, f.kind === 'unavailable' ? STORE_UNAVAILABLE : 'Internal error', job.requestId);
    } finally {
      metrics.handlerSeconds.observe({ type: job.type }, (performance.now() - started) / 1000);
      metrics.requests.inc({ type: job.type, outcome });
    }
  }

  /** One request at a time per connection: replies leave in the order requests came. */
  async function pump(ws: Socket): Promise<void> {
    const session = ws.getUserData();
    session.busy = true;
    try {
      // Once shutdown began nothing new starts: what runs finishes and is answered, the rest is
      // never started and the socket closes with 1001 (the client resends, clientMessageId keeps it once).
      while (session.queue && session.queue.length > 0 && !session.closed && !s.isClosing()) {
        const job = session.queue.shift()!;
        const frame = await s.inflight.track(run(ws, job));
        if (session.closed) break;
        let status = 1;
        ws.cork(() => { status = ws.send(frame); });
        if (status === 2 || ws.getBufferedAmount() > config.WS_MAX_BACKPRESSURE) closeSlow(ws, metrics);
      }
    } finally {
      session.busy = false;
    }
  }

  return function enqueue(ws: Socket, job: Job): void {
    const session = ws.getUserData();
    (session.queue ??= []).push(job);
    if (!session.busy) void pump(ws);
  };
}

import * as v from 'valibot';
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocketBehavior } from 'uWebSockets.js';
import type { Services } from '../services.js';
import type { Socket } from '../pubsub/types.js';
import type { Job, Session } from './session.js';
import { handlers } from './handlers/index.js';
import { bearerToken, AuthError } from '../auth/authenticate.js';
import { ClientError, CloseCode, ErrorCode, errorFrame, groupTopic, successFrame, userTopic, type RequestId } from '../protocol.js';
import { isStoreUnavailable, STORE_UNAVAILABLE } from '../db/errors.js';
import { statusLine } from '../http/respond.js';
import { takeToken } from './rateLimit.js';
import { parseOrThrow } from '../validate.js';
import { closeSlow } from './slowConsumers.js';
import { resyncSockets } from './resync.js';

/** PROTOCOL.md: a frame over 64 KiB closes the connection with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;
// uWS cuts a connection over its payload cap without a close frame (the client sees 1006), so its
// cap sits higher and we close with a proper 1009 ourselves; only frames past this still get 1006.
const UWS_PAYLOAD_CAP = 16 * MAX_FRAME_BYTES;
// Requests refused for rate in a row before the client is judged abusive and closed.
const MAX_STRIKES = 50;


/** `Sec-WebSocket-Protocol: auth, <token>` is how browsers, which cannot set headers, send a token. */
function protocolToken(header: string): string | undefined {
  const parts = header.split(',').map((p) => p.trim());
  return parts[0] === 'auth' && parts[1] ? parts[1] : undefined;
}

const RequestIdSchema = v.optional(v.union([v.pipe(v.string(), v.maxLength(128)), v.pipe(v.number(), v.finite())]));

/** Reads the envelope; anything that is not a request becomes an error frame to queue. */
function readEnvelope(raw: string): Job {
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return { frame: errorFrame('processor', ErrorCode.BAD_REQUEST, 'Message is not valid JSON') };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return { frame: errorFrame('processor', ErrorCode.BAD_REQUEST, 'Message must be a JSON object') };
  }
  const { type, params, requestId: rawId } = msg as Record<string, unknown>;
  const id = v.safeParse(RequestIdSchema, rawId);
  const requestId = id.success ? id.output : undefined;
  if (typeof type !== 'string' || type === '') {
    return { frame: errorFrame('processor', ErrorCode.BAD_REQUEST, 'Message type must be a non-empty string', requestId) };
  }
  if (!id.success) {
    return { frame: errorFrame(type, ErrorCode.BAD_REQUEST, 'requestId must be a string (up to 128 characters) or a number') };
  }
  if (!handlers.has(type)) {
    return { frame: errorFrame(type, ErrorCode.BAD_REQUEST, `Unknown message type: ${type.slice(0, 64)}`, requestId) };
  }
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    return { frame: errorFrame(type, ErrorCode.VALIDATION, 'params must be an object', requestId) };
  }
  return { type, params: params ?? {}, requestId };
}

export function createWsBehavior(s: Services): WebSocketBehavior<Session> {
  const { config, log, metrics } = s;

  async function run(ws: Socket, job: Job): Promise<string> {
    if ('frame' in job) return job.frame;
    const handler = handlers.get(job.type)!;
    const started = performance.now();
    let outcome: string = 'ok';
    try {
      const params = parseOrThrow(handler.params, job.params);
      const data = await handler.handle({ s, ws, userId: ws.getUserData().userId }, params);
      return successFrame(job.type, data, job.requestId);
    } catch (err) {
      outcome = err instanceof ClientError ? err.code : ErrorCode.INTERNAL;
      if (err instanceof ClientError) return errorFrame(job.type, err.code, err.message, job.requestId, err.extra);
      const unavailable = isStoreUnavailable(err);
      metrics.handlerErrors.inc({ type: job.type });
      metrics.dbErrors.inc({ kind: unavailable ? 'unavailable' : 'other' });
      if (unavailable) {
        log.warn({ err, type: job.type }, 'database unavailable');
        return errorFrame(job.type, ErrorCode.INTERNAL, STORE_UNAVAILABLE, job.requestId);
      }
      log.error({ err, type: job.type }, 'handler failed');
      return errorFrame(job.type, ErrorCode.INTERNAL, 'Internal error', job.requestId);
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

  function enqueue(ws: Socket, job: Job): void {
    const session = ws.getUserData();
    (session.queue ??= []).push(job);
    if (!session.busy) void pump(ws);
  }

  return {
    maxPayloadLength: UWS_PAYLOAD_CAP,
    idleTimeout: config.WS_IDLE_TIMEOUT,
    sendPingsAutomatically: true,
    // The sweep (slowConsumers.ts) closes a reader at WS_MAX_BACKPRESSURE; uWS's cap, past which
    // it would skip sends, sits above it so that it only bounds memory between two sweeps.
    maxBackpressure: config.WS_MAX_BACKPRESSURE * 2,
    closeOnBackpressureLimit: 0,

    upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t) {
      // uWS frees `req` at the first await: copy what we need now.
      const key = req.getHeader('sec-websocket-key');
      const protocols = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const fromProtocol = protocolToken(protocols);
      const token = bearerToken(req.getHeader('authorization')) ?? fromProtocol;
      let aborted = false;
      res.onAborted(() => { aborted = true; });

      const refuse = (status: number, message: string): void => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus(statusLine(status)).writeHeader('Content-Type', 'application/json')
            .end(JSON.stringify({ error: true, message, code: status === 401 ? ErrorCode.UNAUTHORIZED : status === 429 ? ErrorCode.RATE_LIMITED : ErrorCode.UNAVAILABLE }));
        });
      };
      if (s.isClosing()) return refuse(503, 'Server is shutting down');

      void (async () => {
        try {
          const controlSeq = s.sessions.controlSeq;
          const me = await s.authenticateSocket(token);
          if (s.sessions.count(me.id) >= config.MAX_CONNECTIONS_PER_USER) {
            metrics.rateLimited.inc({ kind: 'connections' });
            return refuse(429, `At most ${config.MAX_CONNECTIONS_PER_USER} connections per user`);
          }
          if (aborted) return;
          const session: Session = {
            userId: me.id, tokenVersion: me.tokenVersion, controlSeq, lastControl: 0, exp: me.exp, initialGroups: me.state.groupIds,
            queue: null, busy: false, closed: false, tokens: config.WS_RATE_BURST, refilledAt: Date.now(), strikes: 0,
          };
          res.cork(() => res.upgrade(session, key, fromProtocol ? 'auth' : '', extensions, context));
        } catch (err) {
          if (err instanceof AuthError) return refuse(401, err.message);
          if (isStoreUnavailable(err)) return refuse(503, STORE_UNAVAILABLE);
          log.error({ err }, 'upgrade failed');
          refuse(503, 'Internal error');
        }
      })();
    },

    open(ws) {
      const session = ws.getUserData();
      s.sessions.add(ws);
      metrics.connections.inc();
      if (s.sessions.count(session.userId) === 1) s.presence.up(session.userId);
      ws.subscribe(userTopic(session.userId));
      for (const g of session.initialGroups ?? []) ws.subscribe(groupTopic(g));
      session.initialGroups = null;
      if (s.sessions.controlSeq !== session.controlSeq) {
        resyncSockets(s.users, s.sessions, [ws]).catch((err: unknown) => log.warn({ err }, 'socket re-check failed'));
      }
    },

    message(ws, message, isBinary) {
      const session = ws.getUserData();
      metrics.received.inc();
      if (message.byteLength > MAX_FRAME_BYTES) {
        ws.end(CloseCode.MESSAGE_TOO_BIG, 'Frame over 64 KiB');
        return;
      }
      if (isBinary) {
        enqueue(ws, { frame: errorFrame('processor', ErrorCode.BAD_REQUEST, 'Binary frames are not supported; send JSON text') });
        return;
      }
      // The ArrayBuffer is only valid during this call; decoding copies it.
      const job = readEnvelope(Buffer.from(message).toString('utf8'));
      if (!takeToken(session, config.WS_RATE_PER_SECOND, config.WS_RATE_BURST)) {
        metrics.rateLimited.inc({ kind: 'ws' });
        if (++session.strikes > MAX_STRIKES) {
          ws.end(CloseCode.POLICY_VIOLATION, 'Rate limit ignored');
          return;
        }
        const retryAfterMs = Math.ceil(1000 / config.WS_RATE_PER_SECOND);
        const type = 'type' in job ? job.type : 'processor';
        const requestId = 'requestId' in job ? job.requestId : undefined;
        enqueue(ws, { frame: errorFrame(type, ErrorCode.RATE_LIMITED, 'Too many requests; slow down', requestId, { retryAfterMs }) });
        return;
      }
      session.strikes = 0;
      enqueue(ws, job);
    },

    close(ws) {
      const session = ws.getUserData();
      session.closed = true;
      session.queue = null;
      s.sessions.remove(ws);
      metrics.connections.dec();
      if (s.sessions.count(session.userId) === 0) s.presence.down(session.userId, Date.now());
    },

    subscription(_ws, topic, newCount, oldCount) {
      s.pubsub.onLocalSubscription(Buffer.from(topic).toString(), newCount, oldCount);
    },
  };
}

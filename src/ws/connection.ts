import type { WebSocketBehavior } from 'uWebSockets.js';
import type { Services } from '../services.js';
import type { Session, Socket } from './session.js';
import { handlers } from './handlers/index.js';
import { CloseCode, groupTopic, userTopic } from '../protocol.js';
import { takeToken } from './rateLimit.js';
import { resyncSockets } from './resync.js';
import { binaryFrameAnswer, rateLimitedAnswer, readEnvelope } from './envelope.js';
import { createUpgrade } from './upgrade.js';
import { createRequestQueue } from './requests.js';

/** PROTOCOL.md: a frame over 64 KiB closes the connection with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;
// uWS cuts a connection over its payload cap without a close frame (the client sees 1006), so its
// cap sits higher and we close with a proper 1009 ourselves; only frames past this still get 1006.
const UWS_PAYLOAD_CAP = 16 * MAX_FRAME_BYTES;
// Requests refused for rate in a row before the client is judged abusive and closed.
const MAX_STRIKES = 50;

const isKnownType = (type: string): boolean => handlers.has(type);

/** The WebSocket behaviour: upgrade (upgrade.ts), open/message/close, requests in order (requests.ts). */
export function createWsBehavior(s: Services): WebSocketBehavior<Session> {
  const { config, log, metrics } = s;
  const enqueue = createRequestQueue(s);

  /** Registers a socket whose upgrade has completed: subscriptions, presence, a re-check if needed. */
  function admit(ws: Socket): void {
    const session = ws.getUserData();
    s.sessions.add(ws);
    metrics.connections.inc();
    if (s.sessions.count(session.userId) === 1) {
      s.presence.up(session.userId);
      s.push.socketUp(session.userId);
    }
    ws.subscribe(userTopic(session.userId));
    for (const g of session.initialGroups ?? []) ws.subscribe(groupTopic(g));
    session.initialGroups = null;
    if (s.sessions.controlSeq !== session.controlSeq) {
      resyncSockets(s.users, s.sessions, [ws]).catch((err: unknown) => log.warn({ err }, 'socket re-check failed'));
    }
  }
  const { upgrade, open } = createUpgrade(s, admit);

  return {
    maxPayloadLength: UWS_PAYLOAD_CAP,
    idleTimeout: config.WS_IDLE_TIMEOUT,
    sendPingsAutomatically: true,
    // The sweep (slowConsumers.ts) closes a reader at WS_MAX_BACKPRESSURE; uWS's cap, past which
    // it would skip sends, sits above it so that it only bounds memory between two sweeps.
    maxBackpressure: config.WS_MAX_BACKPRESSURE * 2,
    closeOnBackpressureLimit: 0,

    upgrade,
    // Only hands the socket to upgrade.ts, which admits it once uWS's cork has returned (see there).
    open,

    message(ws, message, isBinary) {
      const session = ws.getUserData();
      metrics.received.inc();
      if (message.byteLength > MAX_FRAME_BYTES) {
        ws.end(CloseCode.MESSAGE_TOO_BIG, 'Frame over 64 KiB');
        return;
      }
      if (isBinary) {
        enqueue(ws, binaryFrameAnswer());
        return;
      }
      // The ArrayBuffer is only valid during this call; decoding copies it.
      const job = readEnvelope(Buffer.from(message).toString('utf8'), isKnownType);
      if (!takeToken(session, config.WS_RATE_PER_SECOND, config.WS_RATE_BURST)) {
        metrics.rateLimited.inc({ kind: 'ws' });
        if (++session.strikes > MAX_STRIKES) {
          ws.end(CloseCode.POLICY_VIOLATION, 'Rate limit ignored');
          return;
        }
        enqueue(ws, rateLimitedAnswer(job, Math.ceil(1000 / config.WS_RATE_PER_SECOND)));
        return;
      }
      session.strikes = 0;
      enqueue(ws, job);
    },

    close(ws) {
      const session = ws.getUserData();
      session.closed = true;
      session.queue = null;
      // Closed inside its upgrade, before it was admitted: nothing to undo.
      if (session.initialGroups !== null) return;
      s.sessions.remove(ws);
      metrics.connections.dec();
      if (s.sessions.count(session.userId) === 0) {
        s.presence.down(session.userId, Date.now());
        s.push.socketDown(session.userId);
      }
    },

    subscription(_ws, topic, newCount, oldCount) {
      s.pubsub.onLocalSubscription(Buffer.from(topic).toString(), newCount, oldCount);
    },
  };
}

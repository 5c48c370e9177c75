import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import type { Services } from '../services.js';
import type { Session } from './session.js';
import { bearerToken } from '../auth/authenticate.js';
import { ErrorCode } from '../protocol.js';
import { STORE_UNAVAILABLE } from '../db/errors.js';
import { httpError, writeReply } from '../http/respond.js';
import { reportFailure } from '../failure.js';
import { protocolToken } from './envelope.js';

/**
 * The WebSocket upgrade: authenticates the token and checks the per-user connection limit
 * before accepting; a refusal is an ordinary HTTP error answer (same body and headers as every other).
 */
export function createUpgrade(s: Services) {
  const { config, log, metrics } = s;
  return function upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    // uWS frees `req` at the first await: copy what we need now.
    const key = req.getHeader('sec-websocket-key');
    const protocols = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const fromProtocol = protocolToken(protocols);
    const token = bearerToken(req.getHeader('authorization')) ?? fromProtocol;
    let aborted = false;
    res.onAborted(() => { aborted = true; });

    const refuse = (code: ErrorCode, message: string): void => {
      if (aborted) return;
      res.cork(() => writeReply(res, httpError(code, message)));
    };
    if (s.isClosing()) return refuse(ErrorCode.UNAVAILABLE, 'Server is shutting down');

    void (async () => {
      try {
        const controlSeq = s.sessions.controlSeq;
        const me = await s.authenticateSocket(token);
        if (s.sessions.count(me.id) >= config.MAX_CONNECTIONS_PER_USER) {
          metrics.rateLimited.inc({ kind: 'connections' });
          return refuse(ErrorCode.RATE_LIMITED, `At most ${config.MAX_CONNECTIONS_PER_USER} connections per user`);
        }
        if (aborted) return;
        const session: Session = {
          userId: me.id, tokenVersion: me.tokenVersion, controlSeq, lastControl: 0, exp: me.exp, initialGroups: me.state.groupIds,
          queue: null, busy: false, closed: false, rateAllowance: config.WS_RATE_BURST, rateRefilledAt: Date.now(), strikes: 0,
        };
        res.cork(() => res.upgrade(session, key, fromProtocol ? 'auth' : '', extensions, context));
      } catch (err) {
        const f = reportFailure(err, { log, count: (kind) => metrics.dbErrors.inc({ kind }) }, 'upgrade failed');
        // A bad token is 401; a server-side failure is 503 either way, so the client retries.
        if (f.kind === 'client') return refuse(f.code, f.message);
        refuse(ErrorCode.UNAVAILABLE, f.kind === 'unavailable' ? STORE_UNAVAILABLE : 'Internal error');
      }
    })();
  };
}

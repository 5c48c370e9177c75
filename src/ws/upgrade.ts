import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import type { Services } from '../services.js';
import type { Session, Socket } from './session.js';
import { bearerToken } from '../auth/authenticate.js';
import { ErrorCode } from '../protocol.js';
import { STORE_UNAVAILABLE } from '../db/errors.js';
import { httpError, writeReply } from '../http/respond.js';
import { reportFailure } from '../failure.js';
import { protocolToken } from './envelope.js';

/**
 * The WebSocket upgrade: authenticates the token and checks the per-user connection limit
 * before accepting; a refusal is an ordinary HTTP error answer (same body and headers as every other).
 *
 * Workaround for uNetworking/uWebSockets#1928 (fixed upstream by #1929, in builds this glibc cannot
 * load): an upgrade that resumes after an await must run inside `res.cork`, and uWS 20.30 calls
 * `open` from inside it. When the cork returns it takes the upgraded socket for the HTTP response
 * still (the poll was reallocated in place), reads the response's state from memory the upgrade
 * has freed, and may shut the new socket down: the client sees 1006 right after 101 (4 of about
 * 28,000 handshakes in the connect bench under load with the CPU profiler on; the SDK
 * reconnects). Nothing in the JS API avoids that read short of upgrading uncorked (a syscall per
 * header line). What the server can do: `open` only hands the socket back here, `admit`
 * registers it once the cork has returned, so a socket closed inside the cork was never
 * registered (nothing to undo, no presence flap), and such a close is logged rather than silent.
 */
export function createUpgrade(s: Services, admit: (ws: Socket) => void) {
  const { config, log, metrics } = s;
  // Set by `open`, which uWS calls synchronously inside res.upgrade.
  let opened: Socket | undefined;

  function upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
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
      let upgraded = false;
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
        upgraded = true;
        res.cork(() => res.upgrade(session, key, fromProtocol ? 'auth' : '', extensions, context));
        const ws = opened;
        opened = undefined;
        // uWS.js copies the user data into the socket's own object: `session` is not what the socket holds.
        if (ws === undefined || ws.getUserData().closed) {
          log.warn({ userId: me.id }, 'socket closed inside its upgrade (uNetworking/uWebSockets#1928)');
          return;
        }
        admit(ws);
      } catch (err) {
        const f = reportFailure(err, { log, count: (kind) => metrics.dbErrors.inc({ kind }) }, 'upgrade failed');
        // Once upgraded the HTTP response is gone: nothing left to answer on.
        if (upgraded) return;
        // A bad token is 401; a server-side failure is 503 either way, so the client retries.
        if (f.kind === 'client') return refuse(f.code, f.message);
        refuse(ErrorCode.UNAVAILABLE, f.kind === 'unavailable' ? STORE_UNAVAILABLE : 'Internal error');
      }
    })();
  }

  return {
    upgrade,
    open(ws: Socket): void { opened = ws; },
  };
}

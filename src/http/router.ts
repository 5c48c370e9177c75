import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ErrorCode } from '../protocol.js';
import type { Principal } from '../auth/authenticate.js';
import { STORE_UNAVAILABLE } from '../db/errors.js';
import { reportFailure } from '../failure.js';
import type { Logger } from '../log.js';
import { readBody, parseJson, PayloadTooLarge } from './body.js';
import { httpError, writeReply, type Reply } from './respond.js';

/** What a route sees of a request: copied out of uWS before the first await (uWS frees `req`). */
export interface Request {
  method: string;
  url: string;
  query: URLSearchParams;
  ip: string;
  authorization: string;
  body: unknown;
}

export interface Route {
  method: 'get' | 'post' | 'patch' | 'del';
  path: string;
  /** Reads and parses a JSON body first. */
  body?: boolean;
  handle(req: Request): Promise<Reply> | Reply;
}

export interface AuthedRoute extends Omit<Route, 'handle'> {
  auth: true;
  handle(req: Request, me: Principal): Promise<Reply> | Reply;
}

export interface RouterDeps {
  log: Logger;
  maxBodyBytes: number;
  authenticate(authorization: string): Promise<Principal>;
  /** Counts failures that were not the client's fault. */
  onServerError(err: unknown, unavailable: boolean): void;
  /** Shutdown waits for what passes through here. */
  track<T>(work: Promise<T>): Promise<T>;
}

// Kept here too for the code that imports it from the router.
export { httpError };

/** Retry-After in whole seconds (at least 1) for an error that says when to come back. */
function retryHeaders(extra: Record<string, unknown> | undefined): [string, string][] | undefined {
  const retry = extra?.retryAfterMs;
  return typeof retry === 'number' ? [['Retry-After', String(Math.max(1, Math.ceil(retry / 1000)))]] : undefined;
}

function errorReply(err: unknown, deps: RouterDeps, req: Request): Reply {
  const f = reportFailure(err, { log: deps.log, count: (kind) => deps.onServerError(err, kind === 'unavailable') }, 'request failed', { url: req.url });
  switch (f.kind) {
    case 'client': return httpError(f.code, f.message, retryHeaders(f.extra));
    case 'unavailable': return httpError(ErrorCode.UNAVAILABLE, STORE_UNAVAILABLE);
    case 'internal': return httpError(ErrorCode.INTERNAL, 'Internal error');
  }
}

function remoteIp(res: HttpResponse): string {
  return Buffer.from(res.getRemoteAddressAsText()).toString();
}

/**
 * Mounts routes on the uWS app with the rules every async uWS handler must keep: copy the
 * request first, register onAborted, and write only through cork and only if not aborted.
 */
export function mountRoutes(app: TemplatedApp, routes: (Route | AuthedRoute)[], deps: RouterDeps): void {
  for (const route of routes) {
    app[route.method](route.path, handlerOf(route, deps, false));
    // Every GET answers HEAD too (curl -I, link checkers, load balancers' health probes).
    if (route.method === 'get') app.head(route.path, handlerOf(route, deps, true));
  }

  app.options('/*', (res) => {
    res.cork(() => writeReply(res, { status: 204 }));
  });
  app.any('/*', (res, uReq) => {
    const url = uReq.getUrl();
    res.cork(() => writeReply(res, httpError(ErrorCode.NOT_FOUND, `No route for ${uReq.getMethod().toUpperCase()} ${url}`)));
  });
}

function handlerOf(route: Route | AuthedRoute, deps: RouterDeps, head: boolean): (res: HttpResponse, uReq: HttpRequest) => void {
  return (res: HttpResponse, uReq: HttpRequest): void => {
    const query = uReq.getQuery();
    const req: Request = {
      method: uReq.getMethod(),
      url: uReq.getUrl(),
      query: new URLSearchParams(query ?? ''),
      ip: remoteIp(res),
      authorization: uReq.getHeader('authorization'),
      body: undefined,
    };
    const contentLength = uReq.getHeader('content-length');
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    const send = (reply: Reply): void => {
      if (aborted) return;
      aborted = true;
      res.cork(() => writeReply(res, reply, head));
    };

    void deps.track((async () => {
      try {
        if (route.body) req.body = parseJson(await readBody(res, contentLength, deps.maxBodyBytes));
        const reply = 'auth' in route
          ? await route.handle(req, await deps.authenticate(req.authorization))
          : await route.handle(req);
        send(reply);
      } catch (err) {
        const reply = errorReply(err, deps, req);
        // Closing after a 413 stops the client from streaming the rest of a huge body at us.
        if (err instanceof PayloadTooLarge) reply.close = true;
        send(reply);
      }
    })());
  };
}

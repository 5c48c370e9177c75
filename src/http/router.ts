import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ErrorCode } from '../protocol.js';
import type { Principal } from '../auth/authenticate.js';
import { STORE_UNAVAILABLE } from '../db/errors.js';
import { reportFailure } from '../failure.js';
import type { Logger } from '../log.js';
import { readBody, parseJson, PayloadTooLarge } from './body.js';
import { httpError, writeReply, type Reply } from './respond.js';
import { UploadBody } from './upload.js';
import { streamReply } from './download.js';

/** What a route sees of a request: copied out of uWS before the first await (uWS frees `req`). */
export interface Request {
  method: string;
  url: string;
  query: URLSearchParams;
  ip: string;
  authorization: string;
  body: unknown;
  /** The Range and Content-Length headers (empty when absent). */
  range: string;
  contentLength: string;
  /** Routes with `upload`: the body as a paused stream, started by the route (upload.ts). */
  upload?: UploadBody;
}

export interface Route {
  method: 'get' | 'post' | 'patch' | 'del';
  path: string;
  /** Reads and parses a JSON body first. */
  body?: boolean;
  /** Hands the body over as a stream (req.upload) instead of reading it. */
  upload?: boolean;
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
      range: uReq.getHeader('range'),
      contentLength: uReq.getHeader('content-length'),
    };
    const contentLength = req.contentLength;
    let aborted = false;
    let answered = false;
    if (route.upload) req.upload = new UploadBody(res);
    res.onAborted(() => {
      aborted = true;
      req.upload?.abort();
    });
    const send = (reply: Reply): void => {
      if (aborted || answered) {
        // A file opened for a client that went away meanwhile: close it (its descriptor, or its S3 response).
        reply.stream?.source.destroy();
        return;
      }
      answered = true;
      if (reply.stream && !head) streamReply(res, { ...reply, stream: reply.stream }, () => aborted);
      else res.cork(() => writeReply(res, reply, head));
      if (head) reply.stream?.source.destroy();
      req.upload?.detach();
    };

    void deps.track((async () => {
      try {
        if (route.body) req.body = parseJson(await readBody(res, contentLength, deps.maxBodyBytes));
        const reply = 'auth' in route
          ? await route.handle(req, await deps.authenticate(req.authorization))
          : await route.handle(req);
        send(reply);
      } catch (err) {
        // An upload the client abandoned fails its storage write: not a server error, and no one to answer.
        if (req.upload?.aborted) return;
        const reply = errorReply(err, deps, req);
        // Closing after a 413 stops the client from streaming the rest of a huge body at us; an
        // upload refused before its body was read (auth, quota) would otherwise hang on it too.
        if (err instanceof PayloadTooLarge || route.upload) reply.close = true;
        send(reply);
      }
    })());
  };
}

import type { HttpResponse } from 'uWebSockets.js';
import type { Readable } from 'node:stream';
import type { ErrorCode } from '../protocol.js';

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK', 201: '201 Created', 204: '204 No Content', 206: '206 Partial Content', 301: '301 Moved Permanently',
  302: '302 Found', 416: '416 Range Not Satisfiable',
  400: '400 Bad Request', 401: '401 Unauthorized', 403: '403 Forbidden', 404: '404 Not Found',
  405: '405 Method Not Allowed', 409: '409 Conflict', 413: '413 Payload Too Large', 429: '429 Too Many Requests',
  500: '500 Internal Server Error', 503: '503 Service Unavailable',
};

export const statusLine = (status: number): string => STATUS_TEXT[status] ?? `${status} Unknown`;

// Sent on every HTTP answer: an API that never serves active content can lock everything down.
const SECURITY_HEADERS: [string, string][] = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cross-Origin-Resource-Policy', 'cross-origin'],
  ['Access-Control-Allow-Origin', '*'],
  ['Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE, OPTIONS'],
  ['Access-Control-Allow-Headers', 'Authorization, Content-Type'],
  ['Access-Control-Expose-Headers', 'Retry-After'],
  ['Access-Control-Max-Age', '600'],
];
// The Swagger UI page needs its own scripts and styles; everything else gets none.
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

export interface Reply {
  status: number;
  body?: string | Uint8Array;
  contentType?: string;
  headers?: [string, string][];
  docs?: boolean;
  /** A page's own Content-Security-Policy (the web app's); default: the API's or the docs'. */
  csp?: string;
  /** Cache-Control of a static file; default: `no-store` (API), none (docs). */
  cache?: string;
  /** Ask uWS to close the connection once written (after refusing a body mid-stream). */
  close?: boolean;
  /** A body streamed from storage instead of `body` (files): `length` bytes, sent as the socket drains. */
  stream?: { source: Readable; length: number };
}

export const json = (status: number, value: unknown, headers?: [string, string][]): Reply => ({
  status,
  body: JSON.stringify(value),
  contentType: 'application/json; charset=utf-8',
  headers,
});

/**
 * Writes a whole reply; call inside `res.cork` when not in the synchronous part of a handler.
 * A HEAD request gets the same status and headers, and the length the body would have had.
 */
export function writeReply(res: HttpResponse, reply: Reply, head = false): void {
  writeHead(res, reply);
  if (head) res.endWithoutBody(reply.stream?.length ?? Buffer.byteLength(reply.body ?? ''), reply.close ?? false);
  else res.end(reply.body ?? '', reply.close ?? false);
}

/** The status line and headers of a reply (in a cork); its body follows, whole or streamed. */
export function writeHead(res: HttpResponse, reply: Reply): void {
  res.writeStatus(statusLine(reply.status));
  for (const [k, v] of SECURITY_HEADERS) res.writeHeader(k, v);
  res.writeHeader('Content-Security-Policy', reply.csp ?? (reply.docs ? DOCS_CSP : API_CSP));
  // API answers hold tokens and profiles: no browser or proxy cache may keep them (RFC 6749 §5.1).
  if (reply.cache) res.writeHeader('Cache-Control', reply.cache);
  else if (!reply.docs) res.writeHeader('Cache-Control', 'no-store');
  if (reply.contentType) res.writeHeader('Content-Type', reply.contentType);
  for (const [k, v] of reply.headers ?? []) res.writeHeader(k, v);
}

const STATUS_OF: Record<ErrorCode, number> = {
  BAD_REQUEST: 400, VALIDATION: 400, UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413, QUOTA_EXCEEDED: 413, RATE_LIMITED: 429, INTERNAL: 500, UNAVAILABLE: 503,
};

/** The error answer of every HTTP refusal (routes and WebSocket upgrades): {error, message, code}. */
export const httpError = (code: ErrorCode, message: string, headers?: [string, string][]): Reply =>
  json(STATUS_OF[code], { error: true, message, code }, headers);

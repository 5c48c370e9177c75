import type * as v from 'valibot';
import type { Services } from '../services.js';
import type { Socket } from './session.js';

export type { Socket };

export interface HandlerContext {
  s: Services;
  /** The connection the request came on: excluded from the pushes it causes. */
  ws: Socket;
  userId: number;
}

/** One WebSocket message type: its params schema and what it does. Returns the reply's `data`. */
export interface MessageHandler<S extends v.GenericSchema = v.GenericSchema, D = unknown> {
  params: S;
  handle(ctx: HandlerContext, params: v.InferOutput<S>): Promise<D>;
}

/**
 * Keeps each handler's params and reply data typed while the table holds them side by side
 * (handlers/index.ts checks the data against the wire contract).
 */
export const defineHandler = <S extends v.GenericSchema, D>(h: MessageHandler<S, D>): MessageHandler<S, D> => h;

/**
 * A value that the statement which just ran always sets (the marker markRead moved, the
 * editedAt an edit wrote): its column is nullable, this row's is not. A null is a bug, answered
 * as INTERNAL, never sent on as data.
 */
export function present<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`${what} is missing`);
  return value;
}

/** `page`/`limit`/`beforeId`/`afterId` → what the history queries take. */
export function toPage(p: { limit: number; page: number; beforeId?: number | undefined; afterId?: number | undefined }) {
  return { limit: p.limit, offset: (p.page - 1) * p.limit, beforeId: p.beforeId, afterId: p.afterId };
}

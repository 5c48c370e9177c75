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
export interface MessageHandler<S extends v.GenericSchema = v.GenericSchema> {
  params: S;
  handle(ctx: HandlerContext, params: v.InferOutput<S>): Promise<unknown>;
}

/** Keeps each handler's params typed while the table holds them side by side. */
export const defineHandler = <S extends v.GenericSchema>(h: MessageHandler<S>): MessageHandler<S> => h;

/** `page`/`limit`/`beforeId`/`afterId` → what the history queries take. */
export function toPage(p: { limit: number; page: number; beforeId?: number | undefined; afterId?: number | undefined }) {
  return { limit: p.limit, offset: (p.page - 1) * p.limit, beforeId: p.beforeId, afterId: p.afterId };
}

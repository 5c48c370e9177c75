import type { WebSocket } from 'uWebSockets.js';
import type { RequestId } from '../protocol.js';

/** A request waiting its turn, or an answer already decided (bad frame) that must keep its place. */
export type Job =
  | { kind: 'answer'; frame: string }
  | { kind: 'request'; type: string; params: unknown; requestId: RequestId | undefined };

/** Per-connection state, kept in uWS user data. Small: there can be many thousands. */
export interface Session {
  userId: number;
  /** The account's token version when this socket was authenticated (revocation re-checks). */
  tokenVersion: number;
  /** SocketRegistry.controlSeq before the handshake read the database. */
  controlSeq: number;
  /** SocketRegistry.controlSeq of the last control event applied to this socket. */
  lastControl: number;
  /** Token expiry (s since epoch); the socket is closed with 4001 then. */
  exp: number;
  /** Group ids known at upgrade; subscribed when the socket is admitted, then null (so null = admitted). */
  initialGroups: number[] | null;
  /** Requests wait here so replies keep arrival order while handlers await the database. */
  queue: Job[] | null;
  busy: boolean;
  closed: boolean;
  /** Rate bucket for the per-connection request rate: requests it still allows now. */
  rateAllowance: number;
  rateRefilledAt: number;
  /** Requests refused for rate since the last accepted one; too many closes the socket. */
  strikes: number;
}

/** A WebSocket connection of this server. */
export type Socket = WebSocket<Session>;

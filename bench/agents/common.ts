/** Pieces every scenario's generator side shares: opening its planned connections, counting. */
import { nowMicros } from '../lib/clock.js';
import { mintTokens } from '../lib/tokens.js';
import { describeFailures, openMany } from '../lib/connector.js';
import { newFacts, scanFrame } from '../lib/scan.js';
import type { LeanHandlers, LeanSocket, WsTarget } from '../lib/wsclient.js';

/** A connection the coordinator planned: whose it is and which server node it goes to. */
export interface PlannedConn {
  userId: number;
  node: number;
}

export interface ConnectionSetup<C extends PlannedConn> {
  targets: WsTarget[];
  secret: string;
  conns: C[];
  /** Handshakes in flight at once per generator process. */
  openConcurrency: number;
}

/** Opens every planned connection or fails: a missing member would silently lower the figures. */
export async function openPlanned<C extends PlannedConn>(
  setup: ConnectionSetup<C>,
  handlersFor: (conn: C, index: number) => LeanHandlers,
): Promise<LeanSocket[]> {
  const tokens = await mintTokens(setup.secret, setup.conns.map((conn) => conn.userId));
  const report = await openMany(
    setup.conns.map((conn, index) => ({
      target: setup.targets[conn.node] ?? fail(`no server node ${conn.node}`),
      token: tokens[index] ?? '',
      handlers: handlersFor(conn, index),
    })),
    setup.openConcurrency,
  );
  if (report.opened < setup.conns.length) {
    for (const socket of report.sockets) socket?.close();
    throw new Error(`${setup.conns.length - report.opened} of ${setup.conns.length} connections failed: ${describeFailures(report.failures)}`);
  }
  return report.sockets.filter((socket): socket is LeanSocket => socket !== null);
}

export function fail(message: string): never {
  throw new Error(message);
}

export function countInto(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Resolves when `isDone()` holds (checked every 10 ms) or after `ms`, whichever comes first. */
export async function drain(isDone: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!isDone() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Closes every socket; the server sees a normal close (1000) rather than a reset. */
export async function closeAll(sockets: readonly LeanSocket[]): Promise<void> {
  for (const socket of sockets) socket.close();
  // Give the close frames a moment to leave before the process exits.
  await new Promise((resolve) => setTimeout(resolve, 200));
}

/**
 * The measured part of a round, shared by every closed-loop agent: when it was marked and
 * stopped, and which connections the server closed meanwhile (closes we make ourselves when
 * the run ends are not counted).
 */
export class RoundWindow {
  measuring = false;
  markAt = 0;
  private stopAt = 0;
  private closing = false;
  private closed: Record<string, number> = {};

  mark(): void {
    this.markAt = nowMicros();
    this.measuring = true;
  }

  stop(): void {
    this.stopAt = nowMicros();
    this.measuring = false;
  }

  /** Records a close by the server; closes count in the round they happen in, warm-up included. */
  onClose(code: number, reason: string): void {
    if (!this.closing) countInto(this.closed, `${code} ${reason}`.trim());
  }

  /** The window's length and the closes since the last call. */
  take(): { windowSeconds: number; closedByServer: Record<string, number> } {
    const closedByServer = this.closed;
    this.closed = {};
    return { windowSeconds: (this.stopAt - this.markAt) / 1e6, closedByServer };
  }

  async closeAll(sockets: readonly LeanSocket[]): Promise<void> {
    this.closing = true;
    await closeAll(sockets);
  }
}

/**
 * The request-reply agents' connections: one asker per planned connection (made by `make`), its
 * socket set once open; replies (frames with a requestId, read by the frame scanner) go to
 * `onReply`, closes to `onClose`.
 */
export async function openAskers<C extends PlannedConn, A extends { socket: LeanSocket | null }>(
  setup: ConnectionSetup<C>,
  make: (conn: C) => A,
  handlers: { onReply(asker: A, frame: Buffer, requestId: number): void; onClose(asker: A, code: number, reason: string): void },
): Promise<{ sockets: LeanSocket[]; askers: A[] }> {
  const facts = newFacts();
  const askers: A[] = [];
  const sockets = await openPlanned(setup, (conn) => {
    const asker = make(conn);
    askers.push(asker);
    return {
      onMessage(frame) {
        scanFrame(frame, facts);
        if (facts.requestId !== -1) handlers.onReply(asker, frame, facts.requestId);
      },
      onClose: (code, reason) => handlers.onClose(asker, code, reason),
    };
  });
  sockets.forEach((socket, index) => {
    const asker = askers[index];
    if (asker !== undefined) asker.socket = socket;
  });
  return { sockets, askers };
}

/**
 * Generator side of `history`: each connection asks one kind of history request closed-loop
 * (the next as soon as the reply arrives), rotating over its own groups or dialog partners.
 * The first reply of each connection per round is fully parsed to check it carries rows.
 *
 * The v1.1 writes run the same way: `markRead` walks forward through the newest messages of
 * the connection's groups (so the marker really moves), `editMessage` and `deleteMessage` go
 * round the connection's own messages (a second delete of one answers without writing).
 */
import { nowMicros } from '../lib/clock.js';
import { encodeHistogram, newHistogram } from '../lib/histogram.js';
import { isErrorReply, readErrorCode } from '../lib/scan.js';
import type { LeanSocket } from '../lib/wsclient.js';
import { countInto, drain, openAskers, RoundWindow, type ConnectionSetup, type PlannedConn } from './common.js';
import type { Agent, Emit } from './types.js';

export type HistoryKind =
  | 'listLastMessage' | 'getlatestMessageDialog' | 'getlatestMessageGroup'
  | 'markRead' | 'editMessage' | 'deleteMessage';

export interface HistoryConn extends PlannedConn {
  groupIds: number[];
  partnerIds: number[];
  /** Per group (same order as groupIds): message ids to mark read, oldest first. */
  readIds: number[][];
  /** Messages this user sent, to edit and delete. */
  ownIds: number[];
}

export type HistorySetup = ConnectionSetup<HistoryConn>;

export interface HistoryInfo {
  connections: number;
}

export interface HistoryRound {
  kind: HistoryKind;
  limit: number;
}

export interface HistoryResult {
  windowSeconds: number;
  /** Successful replies in the measured. */
  replies: number;
  errors: Record<string, number>;
  /** Encoded histogram (µs): request → reply. */
  latency: string;
  /** Rows in the checked replies (one per connection per round) and how many were checked. */
  sampledRows: number;
  sampledReplies: number;
  /** Connections the server closed during the round, by close code and reason. */
  closedByServer: Record<string, number>;
}

const DRAIN_MS = 5_000;
const ERROR_BACKOFF_MS = 10;

interface Asker {
  socket: LeanSocket | null;
  conn: HistoryConn;
  turn: number;
  sentAt: number;
  busy: boolean;
  checked: boolean;
}

function request(asker: Asker, round: HistoryRound, requestId: number): string {
  const { conn } = asker;
  const turn = asker.turn++;
  switch (round.kind) {
    case 'listLastMessage':
      return `{"type":"listLastMessage","params":{"limit":${round.limit},"page":1},"requestId":${requestId}}`;
    case 'getlatestMessageDialog': {
      const receiverId = conn.partnerIds[turn % conn.partnerIds.length] ?? conn.userId;
      return `{"type":"getlatestMessageDialog","params":{"receiverId":${receiverId},"limit":${round.limit},"page":1},"requestId":${requestId}}`;
    }
    case 'getlatestMessageGroup': {
      const groupId = conn.groupIds[turn % conn.groupIds.length] ?? 0;
      return `{"type":"getlatestMessageGroup","params":{"groupId":${groupId},"limit":${round.limit},"page":1},"requestId":${requestId}}`;
    }
    case 'markRead': {
      const index = turn % conn.groupIds.length;
      const ids = conn.readIds[index] ?? [];
      // Forward through the group's messages; past the newest the marker stays (answered, not moved).
      const messageId = ids[Math.min(Math.floor(turn / conn.groupIds.length), ids.length - 1)] ?? 1;
      return `{"type":"markRead","params":{"groupId":${conn.groupIds[index] ?? 0},"messageId":${messageId}},"requestId":${requestId}}`;
    }
    case 'editMessage': {
      const messageId = conn.ownIds[turn % conn.ownIds.length] ?? 1;
      return `{"type":"editMessage","params":{"messageId":${messageId},"content":"edited ${turn}"},"requestId":${requestId}}`;
    }
    case 'deleteMessage': {
      const messageId = conn.ownIds[turn % conn.ownIds.length] ?? 1;
      return `{"type":"deleteMessage","params":{"messageId":${messageId}},"requestId":${requestId}}`;
    }
  }
}

/** Number of rows in a reply's data (1 for an object: the writes answer one), or -1 when it has none. */
function rowsIn(frame: Buffer): number {
  const reply: unknown = JSON.parse(frame.toString('utf8'));
  if (typeof reply !== 'object' || reply === null || !('params' in reply)) return -1;
  const params = reply.params;
  if (typeof params !== 'object' || params === null || !('data' in params)) return -1;
  if (Array.isArray(params.data)) return params.data.length;
  return typeof params.data === 'object' && params.data !== null ? 1 : -1;
}

export function createHistoryAgent(setup: HistorySetup, _emit: Emit): Agent<HistoryInfo, HistoryRound, HistoryResult> {
  let latency = newHistogram();
  let sockets: LeanSocket[] = [];
  const askers: Asker[] = [];
  let round: HistoryRound = { kind: 'listLastMessage', limit: 20 };
  let running = false;
  const measured = new RoundWindow();
  let requestId = 0;
  let counts = { replies: 0, sampledRows: 0, sampledReplies: 0 };
  let errors: Record<string, number> = {};

  function ask(asker: Asker): void {
    if (asker.socket === null || !asker.socket.send(request(asker, round, ++requestId))) return;
    asker.sentAt = nowMicros();
    asker.busy = true;
  }

  function onReply(asker: Asker, frame: Buffer): void {
    asker.busy = false;
    if (isErrorReply(frame)) {
      countInto(errors, readErrorCode(frame));
      // Do not hammer a server that refuses (e.g. RATE_LIMITED): the next request waits a little.
      if (running) setTimeout(() => running && ask(asker), ERROR_BACKOFF_MS);
      return;
    }
    if (!asker.checked) {
      asker.checked = true;
      counts.sampledReplies++;
      counts.sampledRows += Math.max(0, rowsIn(frame));
    }
    if (measured.measuring) {
      counts.replies++;
      if (asker.sentAt >= measured.markAt) latency.recordValue(Math.max(0, nowMicros() - asker.sentAt));
    }
    if (running) ask(asker);
  }

  return {
    async setup() {
      const opened = await openAskers(setup, (conn): Asker => ({ socket: null, conn, turn: 0, sentAt: 0, busy: false, checked: false }), {
        onReply: (asker, frame) => onReply(asker, frame),
        onClose(asker, code, reason) {
          measured.onClose(code, reason);
          asker.busy = false;
        },
      });
      sockets = opened.sockets;
      askers.push(...opened.askers);
      return { connections: sockets.length };
    },

    start(next) {
      round = next;
      running = true;
      for (const asker of askers) {
        asker.checked = false;
        ask(asker);
      }
    },

    mark() {
      counts = { replies: 0, sampledRows: counts.sampledRows, sampledReplies: counts.sampledReplies };
      errors = {};
      latency = newHistogram();
      measured.mark();
    },

    async stop() {
      measured.stop();
      running = false;
      await drain(() => askers.every((asker) => !asker.busy), DRAIN_MS);
      const result = { ...measured.take(), ...counts, errors, latency: encodeHistogram(latency) };
      counts = { replies: 0, sampledRows: 0, sampledReplies: 0 };
      return result;
    },

    close: () => measured.closeAll(sockets),
  };
}

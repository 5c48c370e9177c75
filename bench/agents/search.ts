/**
 * Generator side of `search`: each connection asks `searchMessages` (across all of its user's
 * conversations, or within one of its groups) or, for comparison, `listLastMessage`. Closed
 * loop (the next request as soon as the reply arrives) to find what the server sustains, or
 * open loop at a fixed rate (lib/pacer.ts: latency from the intended send time, no coordinated
 * omission) to read the latency at a given load. Queries come from a fixed list
 * (lib/vocabulary.ts), each connection starting at its own place in it.
 */
import { nowMicros } from '../lib/clock.js';
import { encodeHistogram, newHistogram } from '../lib/histogram.js';
import { startPacer } from '../lib/pacer.js';
import { isErrorReply, readErrorCode } from '../lib/scan.js';
import type { LeanSocket } from '../lib/wsclient.js';
import { countInto, drain, openAskers, RoundWindow, type ConnectionSetup, type PlannedConn } from './common.js';
import type { Agent, Emit } from './types.js';

/** searchAll / searchGroup ask for particular words; searchAllCommon for the most common ones (lib/vocabulary.ts). */
export type SearchKind = 'listLastMessage' | 'searchAll' | 'searchGroup' | 'searchAllCommon';

export interface SearchConn extends PlannedConn {
  groupIds: number[];
}

export type SearchSetup = ConnectionSetup<SearchConn> & { queries: string[]; commonQueries: string[] };

export interface SearchInfo {
  connections: number;
}

export interface SearchRound {
  kind: SearchKind;
  limit: number;
  /** Requests/s of this generator process at a fixed rate; absent: closed loop. */
  rate?: number;
}

export interface SearchResult {
  windowSeconds: number;
  replies: number;
  /** Requests sent in the window (open loop: what was offered). */
  sent: number;
  errors: Record<string, number>;
  latency: string;
  /** Rows in the replies measured, to check that searches find something. */
  rows: number;
  closedByServer: Record<string, number>;
}

const DRAIN_MS = 5_000;
const ERROR_BACKOFF_MS = 10;

interface Asker {
  socket: LeanSocket | null;
  conn: SearchConn;
  turn: number;
  /** Intended send time (µs) of each request in flight, by requestId, in order. */
  inFlight: Map<number, number>;
}

/** Rows in a reply's data array, counted from the frame's text without parsing it all. */
function rowsIn(frame: Buffer): number {
  const text = frame.toString('utf8');
  const at = text.indexOf('"data":[');
  if (at < 0) return 0;
  if (text.startsWith(']', at + 8)) return 0;
  // Each row starts with {"id": in both replies.
  return text.split('{"id":').length - 1;
}

export function createSearchAgent(setup: SearchSetup, _emit: Emit): Agent<SearchInfo, SearchRound, SearchResult> {
  let latency = newHistogram();
  let sockets: LeanSocket[] = [];
  const askers: Asker[] = [];
  let round: SearchRound = { kind: 'listLastMessage', limit: 20 };
  let running = false;
  let stopPacer: () => void = () => undefined;
  const measured = new RoundWindow();
  let requestId = 0;
  let counts = { replies: 0, sent: 0, rows: 0 };
  let errors: Record<string, number> = {};

  function request(asker: Asker, id: number): string {
    const { conn } = asker;
    const turn = asker.turn++;
    if (round.kind === 'listLastMessage') return `{"type":"listLastMessage","params":{"limit":${round.limit},"page":1},"requestId":${id}}`;
    const queries = round.kind === 'searchAllCommon' ? setup.commonQueries : setup.queries;
    const query = JSON.stringify(queries[(conn.userId * 7 + turn) % queries.length] ?? 'ka');
    const scope = round.kind === 'searchGroup' ? `,"groupId":${conn.groupIds[turn % conn.groupIds.length] ?? 0}` : '';
    return `{"type":"searchMessages","params":{"query":${query}${scope},"limit":${round.limit}},"requestId":${id}}`;
  }

  function ask(asker: Asker, intended = nowMicros()): void {
    const id = ++requestId;
    if (asker.socket === null || !asker.socket.send(request(asker, id))) return;
    asker.inFlight.set(id, intended);
    if (measured.measuring) counts.sent++;
  }

  function onReply(asker: Asker, frame: Buffer, id: number): void {
    const intended = asker.inFlight.get(id);
    asker.inFlight.delete(id);
    const closedLoop = round.rate === undefined;
    if (isErrorReply(frame)) {
      countInto(errors, readErrorCode(frame));
      if (running && closedLoop) setTimeout(() => running && ask(asker), ERROR_BACKOFF_MS);
      return;
    }
    if (measured.measuring && intended !== undefined && intended >= measured.markAt) {
      counts.replies++;
      counts.rows += rowsIn(frame);
      latency.recordValue(Math.max(0, nowMicros() - intended));
    }
    if (running && closedLoop) ask(asker);
  }

  return {
    async setup() {
      const opened = await openAskers(setup, (conn): Asker => ({ socket: null, conn, turn: 0, inFlight: new Map() }), {
        onReply,
        onClose(asker, code, reason) {
          measured.onClose(code, reason);
          asker.inFlight.clear();
        },
      });
      sockets = opened.sockets;
      askers.push(...opened.askers);
      return { connections: sockets.length };
    },

    start(next) {
      round = next;
      running = true;
      if (round.rate === undefined) {
        for (const asker of askers) ask(asker);
        return;
      }
      // Open loop: the connections take the schedule's requests in turn.
      let turn = 0;
      stopPacer = startPacer(round.rate, (intended) => {
        const asker = askers[turn++ % askers.length];
        if (asker !== undefined) ask(asker, intended);
      });
    },

    mark() {
      counts = { replies: 0, sent: 0, rows: 0 };
      errors = {};
      latency = newHistogram();
      measured.mark();
    },

    async stop() {
      measured.stop();
      running = false;
      stopPacer();
      await drain(() => askers.every((asker) => asker.inFlight.size === 0), DRAIN_MS);
      const result = { ...measured.take(), ...counts, errors, latency: encodeHistogram(latency) };
      counts = { replies: 0, sent: 0, rows: 0 };
      return result;
    },

    close: () => measured.closeAll(sockets),
  };
}

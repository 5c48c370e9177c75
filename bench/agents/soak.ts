/**
 * Generator side of `soak`: many idle connections and a few active ones. Tokens are minted in
 * setup; `open` rounds open this process's connections up to a count (so the coordinator can
 * weigh the server at 5k, 10k and full), bound to this process's own loopback source address;
 * the `load` round has the active connections send `messageInGroup` and `privateMessage` in
 * turn on an open-loop schedule until a fixed end time.
 *
 * The measured window is given as times on the shared monotonic clock, not by `mark`/`stop`
 * messages (which reach the processes at different moments): a send belongs to the window when
 * its scheduled time does, and so does every delivery of it, in whichever process it lands.
 * That makes "sent × recipients = delivered" exact, so a missing delivery is a drop, not an edge.
 */
import { nowMicros } from '../lib/clock.js';
import { openMany } from '../lib/connector.js';
import { encodeHistogram, newHistogram, type Histogram } from '../lib/histogram.js';
import { startPacer } from '../lib/pacer.js';
import { isErrorReply, newFacts, readErrorCode, scanFrame, tag, tagKind, tagValue } from '../lib/scan.js';
import { mintTokens } from '../lib/tokens.js';
import type { LeanHandlers, LeanSocket, WsTarget } from '../lib/wsclient.js';
import { closeAll, countInto, drain, fail, type PlannedConn } from './common.js';
import type { Agent, Emit } from './types.js';

export interface SoakConn extends PlannedConn {
  groupId: number;
  /** Null for an idle connection; else whom its private messages go to. */
  partnerId: number | null;
}

export interface SoakSetup {
  targets: WsTarget[];
  secret: string;
  conns: SoakConn[];
  openConcurrency: number;
  /** This process's source address (127.0.0.2 and up). */
  localAddress: string;
}

export interface SoakInfo {
  minted: number;
  active: number;
}

export type SoakRound =
  /** Open connections until this process holds `upTo` of its planned ones. */
  | { t: 'open'; upTo: number }
  /** Send at `rate` per second (this process) from now until `until`; count what is scheduled in [from, until). */
  | { t: 'load'; rate: number; from: number; until: number };

/** Sent as an event when an `open` round is done. */
export interface SoakOpened {
  opened: number;
  failures: Record<string, number>;
  /** µs on the shared clock: first handshake begun, last one done. */
  startedAt: number;
  finishedAt: number;
}

export interface SoakResult {
  /** Sends scheduled in the window that were answered, by kind. */
  groupAcks: number;
  privateAcks: number;
  /** Sends in the window never answered (the connection closed or the drain ran out). */
  unanswered: number;
  errors: Record<string, number>;
  /** Deliveries of sends scheduled in the window (whichever process sent them). */
  deliveries: number;
  /** Encoded histograms (µs): send → delivery over all, and per server node of the receiver. */
  delivery: string;
  deliveryByNode: string[];
  ack: string;
  handshake: string;
  /** Pushes without our tag (presence, ...). */
  otherPushes: number;
  closedByServer: Record<string, number>;
  stillOpen: number;
  /** Sends not made because a connection had MAX_PENDING unanswered. */
  skipped: number;
}

const TAG = 's';
const TAG_S = TAG.charCodeAt(0);
const MAX_PENDING = 1000;
const DRAIN_MS = 5_000;

interface Active {
  socket: LeanSocket | null;
  groupId: number;
  partnerId: number;
  /** Alternates: even sends go to the group, odd ones to the partner. */
  turn: number;
  /** Scheduled times and kinds of unanswered sends, oldest first (replies come in order). */
  pending: { at: number; group: boolean }[];
}

export function createSoakAgent(setup: SoakSetup, emit: Emit): Agent<SoakInfo, SoakRound, SoakResult> {
  const facts = newFacts();
  const nodes = setup.targets.length;
  const delivery = newHistogram();
  const deliveryByNode: Histogram[] = Array.from({ length: nodes }, () => newHistogram());
  const ack = newHistogram();
  const handshake = newHistogram();
  let tokens: string[] = [];
  const sockets: (LeanSocket | null)[] = [];
  const actives: Active[] = [];
  let windowFrom = Number.POSITIVE_INFINITY;
  let windowUntil = 0;
  let outstanding = 0;
  let closing = false;
  let requestId = 0;
  let stopPacer = (): void => undefined;
  const counts = { groupAcks: 0, privateAcks: 0, unanswered: 0, deliveries: 0, otherPushes: 0, skipped: 0 };
  const errors: Record<string, number> = {};
  const closedByServer: Record<string, number> = {};

  const inWindow = (at: number): boolean => at >= windowFrom && at < windowUntil;

  function send(active: Active, at: number): void {
    if (active.pending.length >= MAX_PENDING) {
      if (inWindow(at)) counts.skipped++;
      return;
    }
    const group = active.turn++ % 2 === 0;
    const target = group ? `"groupId":${active.groupId}` : `"receiverId":${active.partnerId}`;
    const text = `{"type":"${group ? 'messageInGroup' : 'privateMessage'}","params":{${target},"content":"${tag(TAG, at)}"},"requestId":${++requestId}}`;
    if (active.socket === null || !active.socket.send(text)) {
      if (inWindow(at)) counts.unanswered++;
      return;
    }
    active.pending.push({ at, group });
    outstanding++;
  }

  function onReply(active: Active, frame: Buffer): void {
    const sent = active.pending.shift();
    outstanding--;
    if (sent === undefined || !inWindow(sent.at)) return;
    if (isErrorReply(frame)) {
      countInto(errors, readErrorCode(frame));
      return;
    }
    if (sent.group) counts.groupAcks++;
    else counts.privateAcks++;
    ack.recordValue(Math.max(0, nowMicros() - sent.at));
  }

  function onPush(frame: Buffer, node: number): void {
    if (facts.tagAt === -1 || tagKind(frame, facts.tagAt) !== TAG_S) {
      counts.otherPushes++;
      return;
    }
    const sentAt = tagValue(frame, facts.tagAt);
    if (!inWindow(sentAt)) return;
    counts.deliveries++;
    const latency = Math.max(0, nowMicros() - sentAt);
    delivery.recordValue(latency);
    deliveryByNode[node]?.recordValue(latency);
  }

  function handlersFor(conn: SoakConn, active: Active | null): LeanHandlers {
    return {
      onMessage(frame) {
        scanFrame(frame, facts);
        if (facts.requestId === -1) onPush(frame, conn.node);
        else if (active !== null) onReply(active, frame);
      },
      onClose(code, reason) {
        if (!closing) countInto(closedByServer, `${code} ${reason}`.trim());
        if (active === null) return;
        // Nothing more will be answered here: what is pending is lost.
        for (const sent of active.pending) if (inWindow(sent.at)) counts.unanswered++;
        outstanding -= active.pending.length;
        active.pending = [];
      },
    };
  }

  async function openUpTo(upTo: number): Promise<SoakOpened> {
    const from = sockets.length;
    const slice = setup.conns.slice(from, Math.min(upTo, setup.conns.length));
    const plannedActives = slice.map((conn): Active | null =>
      conn.partnerId === null ? null : { socket: null, groupId: conn.groupId, partnerId: conn.partnerId, turn: 0, pending: [] },
    );
    const report = await openMany(
      slice.map((conn, index) => ({
        target: setup.targets[conn.node] ?? fail(`no server node ${conn.node}`),
        token: tokens[from + index] ?? '',
        handlers: handlersFor(conn, plannedActives[index] ?? null),
        localAddress: setup.localAddress,
      })),
      setup.openConcurrency,
      handshake,
    );
    report.sockets.forEach((socket, index) => {
      sockets.push(socket);
      const active = plannedActives[index];
      if (active === null || active === undefined || socket === null) return;
      active.socket = socket;
      actives.push(active);
    });
    return { opened: report.opened, failures: report.failures, startedAt: report.startedAt, finishedAt: report.finishedAt };
  }

  return {
    async setup() {
      tokens = await mintTokens(setup.secret, setup.conns.map((conn) => conn.userId));
      return { minted: tokens.length, active: setup.conns.filter((conn) => conn.partnerId !== null).length };
    },

    start(round) {
      if (round.t === 'open') {
        openUpTo(round.upTo)
          .then(emit)
          .catch((error: unknown) => {
            // openMany counts failures instead of throwing; anything else is a bug.
            setImmediate(() => {
              throw error;
            });
          });
        return;
      }
      windowFrom = round.from;
      windowUntil = round.until;
      let turn = 0;
      stopPacer = startPacer(round.rate, (intended) => {
        if (intended >= windowUntil) {
          stopPacer();
          return;
        }
        const active = actives[turn++ % actives.length];
        if (active !== undefined) send(active, intended);
      });
    },

    mark() {
      // The window is fixed by the load round's times.
    },

    async stop() {
      stopPacer();
      await drain(() => outstanding === 0, DRAIN_MS);
      const unanswered = actives.reduce((total, active) => total + active.pending.filter((sent) => inWindow(sent.at)).length, 0);
      return {
        ...counts,
        unanswered: counts.unanswered + unanswered,
        errors,
        delivery: encodeHistogram(delivery),
        deliveryByNode: deliveryByNode.map(encodeHistogram),
        ack: encodeHistogram(ack),
        handshake: encodeHistogram(handshake),
        closedByServer,
        stillOpen: sockets.filter((socket) => socket?.isOpen === true).length,
      };
    },

    async close() {
      closing = true;
      await closeAll(sockets.filter((socket): socket is LeanSocket => socket !== null));
    },
  };
}

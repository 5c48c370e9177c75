/**
 * Generator side of `private`: pairs of users play ping-pong with `privateMessage`. A ping
 * `@p<µs>` is answered by the receiving side with a pong `@q<same µs>`; when the pong comes
 * back the round trip (two committed sends, two pushes) is timed and the next ping goes out.
 * Each connection keeps `balls` pings in play, so throughput is bounded by the round trip,
 * not by a fixed rate.
 *
 * With `--mix v12` (lib/mix.ts) a tenth of the pongs reply to their ping (replyToId), and for a
 * tenth of the pings received the receiver also adds a reaction to the ping (a separate request,
 * pushed to the pinger). Mentions are a group's: dialogs have none.
 */
import { nowMicros } from '../lib/clock.js';
import { encodeHistogram, newHistogram } from '../lib/histogram.js';
import { isErrorReply, newFacts, readErrorCode, scanFrame, tag, tagKind, tagValue } from '../lib/scan.js';
import type { LeanSocket } from '../lib/wsclient.js';
import { countInto, drain, openPlanned, RoundWindow, type ConnectionSetup, type PlannedConn } from './common.js';
import { BENCH_EMOJI, isReactionPush, MIX_SHARE, readDataId, type Mix } from '../lib/mix.js';
import type { Agent, Emit } from './types.js';

export interface PrivateConn extends PlannedConn {
  peerId: number;
}

export type PrivateSetup = ConnectionSetup<PrivateConn>;

export interface PrivateInfo {
  connections: number;
}

export interface PrivateRound {
  /** Pings each connection starts (its peer starts as many). */
  balls: number;
  mix: Mix;
}

export interface PrivateResult {
  windowSeconds: number;
  sends: number;
  acks: number;
  errors: Record<string, number>;
  /** Completed round trips (ping out, pong back) in the measured. */
  roundTrips: number;
  otherPushes: number;
  /** Encoded histograms (µs): ping → pong received, send → ack. */
  roundTrip: string;
  ack: string;
  /** Connections the server closed during the round, by close code and reason. */
  closedByServer: Record<string, number>;
  /** v12 mix: acked replies (pongs with replyToId) and reactions; reaction pushes received. */
  replies: number;
  reactions: number;
  reactionPushes: number;
}

const TAG_PING = 'p'.charCodeAt(0);
const TAG_PONG = 'q'.charCodeAt(0);
const DRAIN_MS = 5_000;
const ERROR_BACKOFF_MS = 10;

type Kind = 'message' | 'reply' | 'reaction';

interface Side {
  socket: LeanSocket | null;
  peerId: number;
  pending: number[];
  kinds: Kind[];
}

export function createPrivateAgent(setup: PrivateSetup, _emit: Emit): Agent<PrivateInfo, PrivateRound, PrivateResult> {
  const facts = newFacts();
  let roundTrip = newHistogram();
  let ack = newHistogram();
  let sockets: LeanSocket[] = [];
  const sides: Side[] = [];
  let running = false;
  const measured = new RoundWindow();
  let requestId = 0;
  let outstanding = 0;
  let counts = { sends: 0, acks: 0, roundTrips: 0, otherPushes: 0, replies: 0, reactions: 0, reactionPushes: 0 };
  let errors: Record<string, number> = {};
  let mix: Mix = 'plain';

  function transmit(side: Side, text: string, kind: Kind): void {
    if (side.socket === null || !side.socket.send(text)) return;
    side.pending.push(nowMicros());
    side.kinds.push(kind);
    outstanding++;
    if (measured.measuring) counts.sends++;
  }

  /** A ping, or the pong to one (replying to it, `replyToId`, for a tenth of them in the v12 mix). */
  function send(side: Side, letter: 'p' | 'q', stamp: number, replyToId = -1): void {
    const reply = replyToId > 0 ? `,"replyToId":${replyToId}` : '';
    transmit(side, `{"type":"privateMessage","params":{"receiverId":${side.peerId},"content":"${tag(letter, stamp)}"${reply}},"requestId":${++requestId}}`,
      reply === '' ? 'message' : 'reply');
  }

  function react(side: Side, messageId: number): void {
    transmit(side, `{"type":"addReaction","params":{"messageId":${messageId},"emoji":"${BENCH_EMOJI}"},"requestId":${++requestId}}`, 'reaction');
  }

  function onReply(side: Side, frame: Buffer): void {
    const sentAt = side.pending.shift() ?? 0;
    const kind = side.kinds.shift() ?? 'message';
    outstanding--;
    if (isErrorReply(frame)) {
      countInto(errors, readErrorCode(frame));
      // The ping (or pong) was refused, so its ball is out of play: serve a new one a little later.
      if (running && kind !== 'reaction') setTimeout(() => running && send(side, 'p', nowMicros()), ERROR_BACKOFF_MS);
    } else if (measured.measuring) {
      counts.acks++;
      if (kind === 'reply') counts.replies++;
      if (kind === 'reaction') counts.reactions++;
      if (sentAt >= measured.markAt) ack.recordValue(Math.max(0, nowMicros() - sentAt));
    }
  }

  function onPush(side: Side, frame: Buffer): void {
    const kind = facts.tagAt === -1 ? 0 : tagKind(frame, facts.tagAt);
    if (kind === TAG_PING) {
      if (!running) return;
      if (mix === 'plain') return send(side, 'q', tagValue(frame, facts.tagAt));
      const pingId = readDataId(frame);
      const r = Math.random();
      send(side, 'q', tagValue(frame, facts.tagAt), r < MIX_SHARE ? pingId : -1);
      if (r >= MIX_SHARE && r < 2 * MIX_SHARE && pingId > 0) react(side, pingId);
    } else if (mix !== 'plain' && isReactionPush(frame)) {
      if (measured.measuring) counts.reactionPushes++;
    } else if (kind === TAG_PONG) {
      const pingedAt = tagValue(frame, facts.tagAt);
      if (measured.measuring && pingedAt >= measured.markAt) {
        counts.roundTrips++;
        roundTrip.recordValue(Math.max(0, nowMicros() - pingedAt));
      }
      if (running) send(side, 'p', nowMicros());
    } else if (measured.measuring) counts.otherPushes++;
  }

  return {
    async setup() {
      sockets = await openPlanned(setup, (conn) => {
        const side: Side = { socket: null, peerId: conn.peerId, pending: [], kinds: [] };
        sides.push(side);
        return {
          onMessage(frame) {
            scanFrame(frame, facts);
            if (facts.requestId === -1) onPush(side, frame);
            else onReply(side, frame);
          },
          onClose(code, reason) {
            measured.onClose(code, reason);
            // Nothing more will be answered on this connection: do not wait for it.
            outstanding -= side.pending.length;
            side.pending = [];
            side.kinds = [];
          },
        };
      });
      sockets.forEach((socket, index) => {
        const side = sides[index];
        if (side !== undefined) side.socket = socket;
      });
      return { connections: sockets.length };
    },

    start(round) {
      running = true;
      mix = round.mix;
      for (const side of sides) for (let i = 0; i < round.balls; i++) send(side, 'p', nowMicros());
    },

    mark() {
      counts = { sends: 0, acks: 0, roundTrips: 0, otherPushes: 0, replies: 0, reactions: 0, reactionPushes: 0 };
      errors = {};
      roundTrip = newHistogram();
      ack = newHistogram();
      measured.mark();
    },

    async stop() {
      measured.stop();
      running = false;
      await drain(() => outstanding === 0, DRAIN_MS);
      return {
        ...measured.take(),
        ...counts,
        errors,
        roundTrip: encodeHistogram(roundTrip),
        ack: encodeHistogram(ack),
      };
    },

    close: () => measured.closeAll(sockets),
  };
}

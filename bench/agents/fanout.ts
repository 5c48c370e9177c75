/**
 * Generator side of `fanout`: every member of every group is connected; senders send
 * `messageInGroup` either closed-loop (next send when the ack arrives) or open-loop (on a
 * fixed schedule). The send time travels in the content as `@t<µs>`; each delivery is
 * timed against it without parsing the frame.
 *
 * With `--mix v12` (lib/mix.ts) a tenth of the sends reply to the sender's latest message, a tenth
 * mention two other members, and a tenth toggle a reaction on the sender's latest message instead
 * of sending one: its push (to every other member) counts as a delivery, untimed (no tag in it).
 */
import { nowMicros } from '../lib/clock.js';
import { encodeHistogram, newHistogram } from '../lib/histogram.js';
import { startPacer } from '../lib/pacer.js';
import { isErrorReply, newFacts, readErrorCode, scanFrame, tag, tagKind, tagValue } from '../lib/scan.js';
import type { LeanSocket } from '../lib/wsclient.js';
import { countInto, drain, openPlanned, RoundWindow, type ConnectionSetup, type PlannedConn } from './common.js';
import { BENCH_EMOJI, isReactionPush, pickKind, readDataId, type Mix } from '../lib/mix.js';
import type { Agent, Emit } from './types.js';

export interface FanoutConn extends PlannedConn {
  groupId: number;
  sender: boolean;
  /** Members a v12 mention names (two others of the group). */
  mentions: number[];
}

export type FanoutSetup = ConnectionSetup<FanoutConn>;

export interface FanoutInfo {
  connections: number;
  senders: number;
}

export interface FanoutRound {
  mode: 'closed' | 'open';
  /** Open loop only: sends per second from this process. */
  rate: number;
  mix: Mix;
}

export interface FanoutResult {
  windowSeconds: number;
  sends: number;
  acks: number;
  errors: Record<string, number>;
  deliveries: number;
  /** Pushes without our tag: none are expected. */
  otherPushes: number;
  /** Encoded histograms (µs): send → delivery, send → ack. */
  delivery: string;
  ack: string;
  /** Connections the server closed during the round, by close code and reason. */
  closedByServer: Record<string, number>;
  /** Open loop: sends skipped because a connection already had MAX_PENDING unanswered. */
  skipped: number;
  /** v12 mix: acked sends of each kind, and deliveries of reaction pushes (among `deliveries`). */
  kinds: Record<string, number>;
  reactionDeliveries: number;
}

const TAG_T = 't'.charCodeAt(0);
/** Open loop never waits for acks, but an unanswered backlog this deep means the server has stalled. */
const MAX_PENDING = 1000;
const DRAIN_MS = 5_000;
const ERROR_BACKOFF_MS = 10;

interface Sender {
  socket: LeanSocket | null;
  groupId: number;
  mentions: string;
  /** The sender's latest stored message (replies and reactions go to it), 0 before the first. */
  lastId: number;
  /** The message this sender's reaction is on (0: none): the next reaction toggles it off. */
  reactedOn: number;
  /** Kinds of unanswered sends, in order. */
  kinds: string[];
  /** Send times of unanswered sends, oldest first (replies come in request order). */
  pending: number[];
}

export function createFanoutAgent(setup: FanoutSetup, _emit: Emit): Agent<FanoutInfo, FanoutRound, FanoutResult> {
  const facts = newFacts();
  let delivery = newHistogram();
  let ack = newHistogram();
  let sockets: LeanSocket[] = [];
  const senders: Sender[] = [];
  let mode: FanoutRound['mode'] = 'closed';
  let mix: Mix = 'plain';
  let running = false;
  const measured = new RoundWindow();
  let requestId = 0;
  let outstanding = 0;
  let stopPacer = (): void => undefined;
  let counts = { sends: 0, acks: 0, deliveries: 0, otherPushes: 0, skipped: 0, reactionDeliveries: 0 };
  let errors: Record<string, number> = {};
  let kinds: Record<string, number> = {};

  function frameOf(sender: Sender, sentAt: number, kind: string): string {
    const id = ++requestId;
    const content = tag('t', sentAt);
    if (kind === 'reply') {
      return `{"type":"messageInGroup","params":{"groupId":${sender.groupId},"content":"${content}","replyToId":${sender.lastId}},"requestId":${id}}`;
    }
    if (kind === 'mention') {
      return `{"type":"messageInGroup","params":{"groupId":${sender.groupId},"content":"${content}","mentions":${sender.mentions}},"requestId":${id}}`;
    }
    if (kind === 'reaction') {
      const type = sender.reactedOn === sender.lastId ? 'removeReaction' : 'addReaction';
      sender.reactedOn = type === 'addReaction' ? sender.lastId : 0;
      return `{"type":"${type}","params":{"messageId":${sender.lastId},"emoji":"${BENCH_EMOJI}"},"requestId":${id}}`;
    }
    return `{"type":"messageInGroup","params":{"groupId":${sender.groupId},"content":"${content}"},"requestId":${id}}`;
  }

  function send(sender: Sender, sentAt: number): void {
    let kind: string = pickKind(mix);
    // Replies and reactions need a message of the sender's own first.
    if ((kind === 'reply' || kind === 'reaction') && sender.lastId === 0) kind = 'plain';
    const text = frameOf(sender, sentAt, kind);
    if (sender.socket === null || !sender.socket.send(text)) return;
    sender.pending.push(sentAt);
    sender.kinds.push(kind);
    outstanding++;
    if (measured.measuring) counts.sends++;
  }

  function onReply(sender: Sender, frame: Buffer): void {
    const sentAt = sender.pending.shift() ?? 0;
    const kind = sender.kinds.shift() ?? 'plain';
    outstanding--;
    if (isErrorReply(frame)) {
      countInto(errors, readErrorCode(frame));
      // Do not hammer a server that refuses (e.g. RATE_LIMITED): the next send waits a little.
      if (running && mode === 'closed') setTimeout(() => running && send(sender, nowMicros()), ERROR_BACKOFF_MS);
      return;
    }
    if (mix !== 'plain' && kind !== 'reaction') sender.lastId = readDataId(frame);
    if (measured.measuring) {
      counts.acks++;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      if (sentAt >= measured.markAt) ack.recordValue(Math.max(0, nowMicros() - sentAt));
    }
    if (running && mode === 'closed') send(sender, nowMicros());
  }

  function onPush(frame: Buffer): void {
    if (!measured.measuring) return;
    if (facts.tagAt === -1 || tagKind(frame, facts.tagAt) !== TAG_T) {
      if (mix !== 'plain' && isReactionPush(frame)) {
        counts.deliveries++;
        counts.reactionDeliveries++;
      } else {
        counts.otherPushes++;
      }
      return;
    }
    counts.deliveries++;
    const sentAt = tagValue(frame, facts.tagAt);
    if (sentAt >= measured.markAt) delivery.recordValue(Math.max(0, nowMicros() - sentAt));
  }

  return {
    async setup() {
      const senderAt: (Sender | null)[] = [];
      sockets = await openPlanned(setup, (conn, index) => {
        const sender: Sender | null = conn.sender
          ? { socket: null, groupId: conn.groupId, pending: [], kinds: [], mentions: JSON.stringify(conn.mentions), lastId: 0, reactedOn: 0 }
          : null;
        senderAt[index] = sender;
        return {
          onMessage(frame) {
            scanFrame(frame, facts);
            if (facts.requestId === -1) onPush(frame);
            else if (sender !== null) onReply(sender, frame);
          },
          onClose(code, reason) {
            measured.onClose(code, reason);
            // Nothing more will be answered on this connection: do not wait for it.
            if (sender !== null) {
              outstanding -= sender.pending.length;
              sender.pending = [];
              sender.kinds = [];
            }
          },
        };
      });
      // openPlanned returns every socket in plan order (it fails if any is missing).
      sockets.forEach((socket, index) => {
        const sender = senderAt[index];
        if (sender === null || sender === undefined) return;
        sender.socket = socket;
        senders.push(sender);
      });
      return { connections: sockets.length, senders: senders.length };
    },

    start(round) {
      mode = round.mode;
      mix = round.mix;
      running = true;
      if (mode === 'closed') {
        for (const sender of senders) send(sender, nowMicros());
        return;
      }
      let turn = 0;
      stopPacer = startPacer(round.rate, (intended) => {
        const sender = senders[turn++ % senders.length];
        if (sender === undefined) return;
        if (sender.pending.length >= MAX_PENDING) counts.skipped++;
        else send(sender, intended);
      });
    },

    mark() {
      counts = { sends: 0, acks: 0, deliveries: 0, otherPushes: 0, skipped: 0, reactionDeliveries: 0 };
      errors = {};
      kinds = {};
      delivery = newHistogram();
      ack = newHistogram();
      measured.mark();
    },

    async stop() {
      measured.stop();
      running = false;
      stopPacer();
      // Let the last sends be answered so the next round starts from a quiet server.
      await drain(() => outstanding === 0, DRAIN_MS);
      return {
        ...measured.take(),
        ...counts,
        errors,
        kinds,
        delivery: encodeHistogram(delivery),
        ack: encodeHistogram(ack),
      };
    },

    close: () => measured.closeAll(sockets),
  };
}

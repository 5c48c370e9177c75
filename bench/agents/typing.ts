/**
 * Generator side of `typing`: the members of one group each send `typing` at a fixed rate
 * (10 a second), and count the `typing` pushes they receive from each other member, with the
 * shortest gap between two pushes of one typer; meanwhile probe pairs send `privateMessage`
 * at a fixed pace and time each send → reply, to see whether the server stays responsive.
 */
import { nowMicros } from '../lib/clock.js';
import { encodeHistogram, newHistogram } from '../lib/histogram.js';
import { isErrorReply, newFacts, readErrorCode, scanFrame } from '../lib/scan.js';
import type { LeanSocket } from '../lib/wsclient.js';
import { countInto, drain, openPlanned, RoundWindow, type ConnectionSetup, type PlannedConn } from './common.js';
import type { Agent, Emit } from './types.js';

export interface TypingConn extends PlannedConn {
  /** A group member that types, or a probe that sends private messages to `peerId`. */
  groupId: number | null;
  peerId: number | null;
}

export type TypingSetup = ConnectionSetup<TypingConn>;

export interface TypingInfo {
  connections: number;
}

export interface TypingRound {
  /** `typing` requests per member per second. */
  typingRate: number;
  /** privateMessage sends per probe per second. */
  probeRate: number;
}

export interface TypingResult {
  windowSeconds: number;
  typingSent: number;
  typingPushes: number;
  /** Pushes of one typer that reached one receiver less than 900 ms after the previous one. */
  tooSoon: number;
  /** Shortest gap (ms) between two pushes of one typer at one receiver; null if none. */
  minGapMs: number | null;
  probeSends: number;
  /** Encoded histogram (µs): privateMessage sent → its reply. */
  probe: string;
  errors: Record<string, number>;
  closedByServer: Record<string, number>;
}

const TYPING_PREFIX = Buffer.from('{"type":"typing"');
const USER_ID = /"userId":(\d+)/;
/** The server throttles at 1 s on its own clock; delivery jitter may bring two pushes closer. */
const TOO_SOON_MS = 900;
const DRAIN_MS = 3_000;

export function createTypingAgent(setup: TypingSetup, _emit: Emit): Agent<TypingInfo, TypingRound, TypingResult> {
  const facts = newFacts();
  const measured = new RoundWindow();
  let sockets: LeanSocket[] = [];
  let timers: NodeJS.Timeout[] = [];
  let requestId = 0;
  const probeSentAt = new Map<number, number>();
  /** Per receiving connection: typer id → when its last push arrived (µs). */
  const lastPush: Map<number, number>[] = setup.conns.map(() => new Map());
  let probe = newHistogram();
  let counts = { typingSent: 0, typingPushes: 0, tooSoon: 0, probeSends: 0 };
  let minGap = Number.POSITIVE_INFINITY;
  let errors: Record<string, number> = {};

  function onPush(index: number, frame: Buffer): void {
    if (!frame.subarray(0, TYPING_PREFIX.length).equals(TYPING_PREFIX)) return;
    const typer = Number(USER_ID.exec(frame.toString('latin1'))?.[1] ?? -1);
    const now = nowMicros();
    const seen = lastPush[index]!;
    const previous = seen.get(typer);
    seen.set(typer, now);
    if (!measured.measuring) return;
    counts.typingPushes++;
    if (previous !== undefined && previous >= measured.markAt) {
      const gapMs = (now - previous) / 1000;
      minGap = Math.min(minGap, gapMs);
      if (gapMs < TOO_SOON_MS) counts.tooSoon++;
    }
  }

  function onReply(frame: Buffer): void {
    if (isErrorReply(frame)) countInto(errors, readErrorCode(frame));
    const sentAt = probeSentAt.get(facts.requestId);
    if (sentAt === undefined) return;
    probeSentAt.delete(facts.requestId);
    if (measured.measuring && sentAt >= measured.markAt) probe.recordValue(Math.max(0, nowMicros() - sentAt));
  }

  return {
    async setup() {
      sockets = await openPlanned(setup, (_conn, index) => ({
        onMessage(frame) {
          scanFrame(frame, facts);
          if (facts.requestId === -1) onPush(index, frame);
          else onReply(frame);
        },
        onClose: (code, reason) => measured.onClose(code, reason),
      }));
      return { connections: sockets.length };
    },

    start(round) {
      setup.conns.forEach((conn, index) => {
        const socket = sockets[index];
        if (socket === undefined) return;
        const typing = conn.groupId !== null;
        const every = 1000 / (typing ? round.typingRate : round.probeRate);
        const fire = (): void => {
          const id = ++requestId;
          if (typing) {
            if (socket.send(`{"type":"typing","params":{"groupId":${conn.groupId}},"requestId":${id}}`) && measured.measuring) counts.typingSent++;
          } else if (socket.send(`{"type":"privateMessage","params":{"receiverId":${conn.peerId},"content":"probe ${id}"},"requestId":${id}}`)) {
            probeSentAt.set(id, nowMicros());
            if (measured.measuring) counts.probeSends++;
          }
        };
        // Spread over the interval, so the members do not all type in the same millisecond.
        timers.push(setTimeout(() => {
          fire();
          timers.push(setInterval(fire, every));
        }, Math.random() * every));
      });
    },

    mark() {
      counts = { typingSent: 0, typingPushes: 0, tooSoon: 0, probeSends: 0 };
      minGap = Number.POSITIVE_INFINITY;
      errors = {};
      probe = newHistogram();
      measured.mark();
    },

    async stop() {
      measured.stop();
      for (const timer of timers) clearTimeout(timer);
      timers = [];
      await drain(() => probeSentAt.size === 0, DRAIN_MS);
      return {
        ...measured.take(),
        ...counts,
        minGapMs: Number.isFinite(minGap) ? Math.round(minGap) : null,
        probe: encodeHistogram(probe),
        errors,
      };
    },

    close: () => measured.closeAll(sockets),
  };
}

/**
 * Generator side of `connect`: tokens are minted during setup (not timed), then on `start`
 * every planned connection is opened as fast as the handshake window allows, and held idle
 * (answering the server's pings) until `stop`, so the coordinator can weigh the server.
 */
import { openMany } from '../lib/connector.js';
import { encodeHistogram, newHistogram } from '../lib/histogram.js';
import { mintTokens } from '../lib/tokens.js';
import type { LeanSocket } from '../lib/wsclient.js';
import { closeAll, countInto, fail, type ConnectionSetup, type PlannedConn } from './common.js';
import type { Agent, Emit } from './types.js';

export type ConnectSetup = ConnectionSetup<PlannedConn>;

export interface ConnectInfo {
  minted: number;
}

/** Sent as an event once every connection of this process is open (or failed). */
export interface ConnectOpened {
  opened: number;
  failures: Record<string, number>;
  /** Ended by the server right after their 101 (uWS #1928) and opened again (connector.ts). */
  reopened: number;
  /** µs on the shared monotonic clock: first handshake begun, last one done. */
  startedAt: number;
  finishedAt: number;
  /** CPU seconds this process spent opening its connections. */
  cpuSeconds: number;
}

export interface ConnectResult {
  /** Encoded histogram (µs): TCP connect + upgrade request → 101. */
  handshake: string;
  /** Connections the server closed while they sat idle, by close code. */
  closedWhileIdle: Record<string, number>;
  stillOpen: number;
  /** `presence` pushes received (partners coming online after this user). */
  presencePushes: number;
}

const PRESENCE_PREFIX = Buffer.from('{"type":"presence"');

export function createConnectAgent(setup: ConnectSetup, emit: Emit): Agent<ConnectInfo, Record<string, never>, ConnectResult> {
  const handshake = newHistogram();
  let tokens: string[] = [];
  let sockets: LeanSocket[] = [];
  let closing = false;
  const closedWhileIdle: Record<string, number> = {};
  let presencePushes = 0;
  const handlers = {
    onMessage(payload: Buffer): void {
      // No requests are sent: what comes is a partner's presence.
      if (payload.subarray(0, PRESENCE_PREFIX.length).equals(PRESENCE_PREFIX)) presencePushes++;
    },
    onClose(code: number, reason: string): void {
      if (!closing) countInto(closedWhileIdle, `${code}${reason === '' ? '' : ` ${reason}`}`);
    },
  };

  return {
    async setup() {
      tokens = await mintTokens(setup.secret, setup.conns.map((conn) => conn.userId));
      return { minted: tokens.length };
    },

    start() {
      const cpu = process.cpuUsage();
      const requests = setup.conns.map((conn, index) => ({
        target: setup.targets[conn.node] ?? fail(`no server node ${conn.node}`),
        token: tokens[index] ?? '',
        handlers,
      }));
      openMany(requests, setup.openConcurrency, handshake)
        .then((report) => {
          sockets = report.sockets.filter((socket): socket is LeanSocket => socket !== null);
          const used = process.cpuUsage(cpu);
          const opened: ConnectOpened = {
            opened: report.opened,
            failures: report.failures,
            reopened: report.reopened,
            startedAt: report.startedAt,
            finishedAt: report.finishedAt,
            cpuSeconds: (used.user + used.system) / 1e6,
          };
          emit(opened);
        })
        .catch((error: unknown) => {
          // openMany counts failures instead of throwing; anything else is a bug: crash the
          // process so the coordinator stops waiting for this event.
          setImmediate(() => {
            throw error;
          });
        });
    },

    mark() {
      // Nothing to reset: the figures are the connect burst, timed by its own clock.
    },

    async stop() {
      return {
        handshake: encodeHistogram(handshake),
        closedWhileIdle,
        stillOpen: sockets.filter((socket) => socket.isOpen).length,
        presencePushes,
      };
    },

    async close() {
      closing = true;
      await closeAll(sockets);
    },
  };
}

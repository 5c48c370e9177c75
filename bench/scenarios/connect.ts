/**
 * `connect`: N authenticated WebSocket connections opened as fast as possible, with presence
 * on: every user has `partners` dialog partners (5), all of them connecting too, so each
 * first socket is a presence change pushed to the partners already online. Figures: the
 * handshake rate over the whole burst, the handshake latency, how much the server's RSS grew
 * per connection once they all sit idle, and then, closing every socket at once, the longest
 * event-loop delay of the server until every user has gone offline (the grace, then the
 * offline changes: lastSeenAt writes and presence pushes).
 */
import type { ConnectInfo, ConnectOpened, ConnectResult, ConnectSetup } from '../agents/connect.js';
import type { PlannedConn } from '../agents/common.js';
import { forkAgents } from '../lib/agents.js';
import { sleep } from '../lib/clock.js';
import { mergeHistograms, summarize } from '../lib/histogram.js';
import { pick, pickCount, type Cli } from '../lib/options.js';
import { nodeOf, splitByAgent } from '../lib/plan.js';
import { openFileLimit, rssBytes, startCpuMeter, startMachineMeter } from '../lib/procstat.js';
import { formatCount, formatCounts, formatLatency, round1, round2 } from '../lib/report.js';
import { mergeCounts, sum } from '../lib/round.js';
import { describeFailures } from '../lib/connector.js';
import { counterDelta, tcpCounters } from '../lib/netstat.js';
import { eventLoopDelayMaxMs, serverConnections, serverMemory } from '../lib/servermetrics.js';
import { analyze, seedPartners, seedUsers } from '../lib/seed.js';
import type { Scenario } from './types.js';
import type postgres from 'postgres';

export interface ConnectParams {
  conns: number;
  /** Handshakes in flight at once, per generator process. */
  openWindow: number;
  /** Idle seconds before the server's RSS is read. */
  settleSeconds: number;
  /** Dialog partners per user (presence pushes go to them). */
  partners: number;
  /** The server's presence grace (PRESENCE_GRACE_MS): how long the close phase waits at least. */
  graceMs: number;
}

const PRESETS = {
  quick: { conns: 10_000, openWindow: 256, settleSeconds: 3, partners: 5 },
  full: { conns: 15_000, openWindow: 256, settleSeconds: 5, partners: 5 },
  smoke: { conns: 20, openWindow: 8, settleSeconds: 0.5, partners: 5 },
} satisfies Record<Cli['preset'], Omit<ConnectParams, 'graceMs'>>;

/** After the grace, how long every user may take to be marked offline before the run gives up waiting. */
const OFFLINE_WAIT_MS = 30_000;
/** A server without presence: how long after the close its connections are read (all gone well before). */
const NO_PRESENCE_CLOSE_WAIT_MS = 5_000;

function describeClosed(closed: Record<string, number>): string {
  const text = formatCounts(closed);
  return text === null ? '' : `; closed by the server: ${text}`;
}

function perConnection(before: number | undefined, after: number | undefined, connections: number): number | null {
  return before === undefined || after === undefined || connections === 0 ? null : round2((after - before) / connections / 1024);
}

function serverRss(pids: readonly number[]): number {
  return pids.reduce((total, pid) => total + (rssBytes(pid) ?? 0), 0);
}

export const connectScenario: Scenario<ConnectParams> = {
  name: 'connect',

  configure(cli) {
    const preset = PRESETS[cli.preset];
    return {
      conns: pickCount(cli, 'conns', preset.conns),
      openWindow: pickCount(cli, 'open-window', preset.openWindow),
      settleSeconds: pick(cli, 'settle', preset.settleSeconds),
      partners: pick(cli, 'partners', preset.partners),
      graceMs: Number(cli.harness.serverEnv['PRESENCE_GRACE_MS'] ?? 10_000),
    };
  },

  describe: (p) => `${formatCount(p.conns)} connections with ${p.partners} dialog partners each, ${p.openWindow} handshakes in flight per generator`,

  budgetMs: (p) => 90_000 + p.conns * 2 + p.settleSeconds * 1000 + p.graceMs + OFFLINE_WAIT_MS,

  async run({ env, procs, deadline }, params) {
    // Each connection is a file descriptor in the server and in one generator process.
    const limit = openFileLimit();
    if (params.conns + 1000 > limit) throw new Error(`open-file limit ${limit} is too low for ${params.conns} connections (raise ulimit -n)`);

    const users = await seedUsers(env.sql, params.conns);
    await seedPartners(env.sql, users, params.partners);
    // Statistics, as a live database has them: planned without, the presence lookups of thousands
    // of users were costed past jit_above_cost and JIT-compiled, about 100 ms of database CPU each.
    await analyze(env.sql);
    const conns: PlannedConn[] = Array.from({ length: params.conns }, (_, index) => ({
      userId: users.first + index,
      node: nodeOf(index, procs, env.targets.length),
    }));
    const pool = forkAgents<ConnectSetup, ConnectInfo, Record<string, never>, ConnectResult, ConnectOpened>('connect', procs, deadline);
    try {
      await pool.setup(
        splitByAgent(conns, procs).map((part) => ({ targets: [...env.targets], secret: env.secret, conns: part, openConcurrency: params.openWindow })),
        60_000,
      );
      await sleep(500);
      // With --gc, a full GC before each reading: what connections keep, not the burst's garbage.
      const collected = await env.collectGarbage();
      const rssBefore = serverRss(env.serverPids);
      const memoryBefore = await serverMemory(env.targets);
      const tcpBefore = tcpCounters();
      const machineMeter = startMachineMeter();
      const serverMeter = startCpuMeter(env.serverPids);
      const databaseMeter = startCpuMeter(await env.databasePids());
      pool.start(Array.from({ length: procs }, () => ({})));
      const opened = await pool.events(30_000 + params.conns * 2);
      const server = serverMeter();
      const machine = machineMeter();
      const database = databaseMeter(await env.databasePids());
      const tcp = counterDelta(tcpBefore, tcpCounters());
      await sleep(params.settleSeconds * 1000);
      await env.collectGarbage();
      const rssAfter = serverRss(env.serverPids);
      const memoryAfter = await serverMemory(env.targets);
      const results = await pool.stop(30_000);

      // Every socket closes at once (each generator closes all of its own); the server's longest
      // event-loop delay is read from then until every user has gone offline.
      await eventLoopDelayMaxMs(env.targets);
      const closedAt = Date.now();
      await pool.close();
      // A server without presence (v1, for comparison) has no lastSeenAt to wait for.
      const presence = await hasPresence(env.sql);
      let offline: number | null;
      let closeLoopDelayMaxMs: number | null;
      // With presence, two phases: the sockets closing (uWS, the close handlers), then, after the
      // grace, the users going offline (the sweep, lastSeenAt writes, pushes to partners). Their
      // delays are read apart, halfway through the grace, when neither is running: a scrape
      // answered during a stall would hide it (see below).
      let closingLoopDelayMaxMs: number | null = null;
      let offlineLoopDelayMaxMs: number | null = null;
      if (presence) {
        await sleep(Math.max(0, closedAt + params.graceMs / 2 - Date.now()));
        closingLoopDelayMaxMs = await eventLoopDelayMaxMs(env.targets);
        offline = await waitOffline(env.sql, users.first, params.conns, params.graceMs / 2 + OFFLINE_WAIT_MS);
        offlineLoopDelayMaxMs = await eventLoopDelayMaxMs(env.targets);
        closeLoopDelayMaxMs = closingLoopDelayMaxMs === null || offlineLoopDelayMaxMs === null ? null : Math.max(closingLoopDelayMaxMs, offlineLoopDelayMaxMs);
      } else {
        // Not polled: a scrape answered in the middle of a stall resets the delay histogram before
        // the late timer can record the stall (Node's monitorEventLoopDelay restarts its interval
        // at a reset), so the stall would go unseen. One scrape once the closing is surely over.
        await sleep(NO_PRESENCE_CLOSE_WAIT_MS);
        const read = await serverConnections(env.targets);
        offline = read?.connections ?? null;
        closeLoopDelayMaxMs = read?.loopDelayMaxMs ?? null;
        closingLoopDelayMaxMs = closeLoopDelayMaxMs;
      }
      const offlineSeconds = round2((Date.now() - closedAt) / 1000);

      const total = sum(opened, (event) => event.opened);
      const burstSeconds = (Math.max(...opened.map((event) => event.finishedAt)) - Math.min(...opened.map((event) => event.startedAt))) / 1e6;
      const handshake = summarize(mergeHistograms(results.map((result) => result.data.handshake)));
      const failures = mergeCounts(opened.map((event) => event.failures));
      const metered = env.serverPids.length > 0;
      const figures = {
        opened: total,
        failed: params.conns - total,
        failures,
        reopened: sum(opened, (event) => event.reopened),
        burstSeconds: round2(burstSeconds),
        handshakesPerSecond: Math.round(total / burstSeconds),
        handshake,
        serverRssBeforeMiB: metered ? round1(rssBefore / 2 ** 20) : null,
        serverRssAfterMiB: metered ? round1(rssAfter / 2 ** 20) : null,
        fullGcBeforeReadings: collected,
        rssPerConnectionKiB: metered && total > 0 ? round2((rssAfter - rssBefore) / total / 1024) : null,
        // Where the growth sits (from the server's /metrics; JS heap figures move with GC).
        heapPerConnectionKiB: perConnection(memoryBefore?.heapUsedBytes, memoryAfter?.heapUsedBytes, total),
        externalPerConnectionKiB: perConnection(memoryBefore?.externalBytes, memoryAfter?.externalBytes, total),
        kernel: tcp,
        closedWhileIdle: mergeCounts(results.map((result) => result.data.closedWhileIdle)),
        stillOpen: sum(results, (result) => result.data.stillOpen),
        presencePushes: sum(results, (result) => result.data.presencePushes),
        close: {
          presence, offlineUsers: presence ? offline : null, offlineSeconds, eventLoopDelayMaxMs: closeLoopDelayMaxMs,
          closingLoopDelayMaxMs, offlineLoopDelayMaxMs,
        },
        load: {
          serverCores: metered ? round2(server.cores) : null,
          databaseCores: round2(database.cores),
          generatorCores: opened.map((event) => round2(event.cpuSeconds / Math.max(1e-9, burstSeconds))),
          machineBusyCores: round2(machine.busyCores),
          machineStealCores: round2(machine.stealCores),
        },
      };
      const lines = [
        `handshakes/s     ${formatCount(figures.handshakesPerSecond)}  (${formatCount(total)} in ${figures.burstSeconds} s${total < params.conns ? `; FAILED: ${describeFailures(failures)}` : ''}${figures.reopened > 0 ? `; ${figures.reopened} ended right after their 101 (uWS #1928) and opened again` : ''})`,
        `handshake        ${formatLatency(handshake)}`,
        `server RSS       ${figures.serverRssBeforeMiB ?? 'n/a'} → ${figures.serverRssAfterMiB ?? 'n/a'} MiB: ${figures.rssPerConnectionKiB ?? 'n/a'} KiB per idle connection${collected ? ' (after a full GC)' : ''}` +
          (figures.heapPerConnectionKiB === null ? '' : ` (JS heap ${figures.heapPerConnectionKiB} KiB, external ${figures.externalPerConnectionKiB ?? 'n/a'} KiB)`),
        `kernel           ${tcp.ListenOverflows} accept-queue overflows, ${tcp.TCPSynRetrans} SYN retransmits (each costs a client ~1 s)`,
        `idle             ${formatCount(figures.stillOpen)} still open after ${params.settleSeconds} s${describeClosed(figures.closedWhileIdle)}`,
        `presence         ${formatCount(figures.presencePushes)} online pushes received during the burst (${params.partners} partners per user)`,
        presence
          ? `close all        longest event-loop delay ${closeLoopDelayMaxMs ?? 'n/a'} ms (sockets closing ${closingLoopDelayMaxMs ?? 'n/a'} ms, users going offline ${offlineLoopDelayMaxMs ?? 'n/a'} ms); ${formatCount(offline ?? 0)} of ${formatCount(total)} users offline (lastSeenAt stored) ${offlineSeconds} s after the close (grace ${params.graceMs / 1000} s)`
          : `close all        longest event-loop delay ${closeLoopDelayMaxMs ?? 'n/a'} ms; server without presence (no users.last_seen_at): ${offline === null ? 'n/a' : formatCount(offline)} connections left ${offlineSeconds} s after the close`,
        `during the burst server ${figures.load.serverCores ?? 'n/a'} cores, database ${figures.load.databaseCores} cores, generators ${figures.load.generatorCores.join(' + ')} cores; machine ${figures.load.machineBusyCores} cores busy`,
      ];
      return { figures, lines };
    } finally {
      await pool.close();
    }
  },
};

/** Whether the server's schema has presence (v1.1's users.last_seen_at); v1 has not. */
async function hasPresence(sql: postgres.Sql): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`
    select exists (select 1 from information_schema.columns where table_name = 'users' and column_name = 'last_seen_at') as found`;
  return row?.found ?? false;
}

/** Polls until every seeded user has a lastSeenAt (gone offline), or `ms` passed; returns how many have. */
async function waitOffline(sql: postgres.Sql, first: number, count: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from users where id between ${first} and ${first + count - 1} and last_seen_at is not null`;
    const n = row?.n ?? 0;
    if (n >= count || Date.now() >= deadline) return n;
    await sleep(100);
  }
}

/**
 * `soak`: a node (or, with --nodes K, a cluster on this one machine) filled with as many
 * authenticated connections as the open-file limit allows, 1 % of them active: each active
 * connection sends `messageInGroup` and `privateMessage` in turn on an open-loop schedule for
 * the duration while the rest sit idle (but receive their groups' messages).
 *
 * Every connection is a file in a server process and in a generator process, and both are
 * capped by `ulimit -n` (20,000 here, not raisable): a node takes at most limit - margin
 * connections, and so does a generator process, so the generators are as many processes as
 * that needs. Each process binds its own loopback source address (127.0.0.2, .3, ...), since
 * one address has only the ephemeral port range (~28k) to connect from.
 *
 * Figures: handshakes/s over the opening bursts, each node's RSS at 5k / 10k / full
 * connections per node, send → delivery p50/p99/p99.9 (over all, and per receiving node), each
 * node's event-loop delay p99 during the load, errors, unanswered sends and drops (deliveries
 * missing 2 s after the window: each group send must reach its M - 1 other members, each
 * private one its receiver), per-node CPU, and Redis CPU with more than one node.
 */
import type { SoakConn, SoakInfo, SoakOpened, SoakResult, SoakRound, SoakSetup } from '../agents/soak.js';
import { forkAgents } from '../lib/agents.js';
import { nowMicros, sleep } from '../lib/clock.js';
import { describeFailures } from '../lib/connector.js';
import { mergeHistograms, summarize } from '../lib/histogram.js';
import { pick, pickCount, type Cli } from '../lib/options.js';
import { nodeOf } from '../lib/plan.js';
import { openFileLimit, pidsNamed, rssBytes, startCpuMeter, startMachineMeter } from '../lib/procstat.js';
import { countsLine, formatCount, formatLatency, round1, round2 } from '../lib/report.js';
import { mergeCounts, sum } from '../lib/round.js';
import { seedGroups, seedPartners, seedUsers } from '../lib/seed.js';
import { eventLoopDelayP99Ms, serverMemory } from '../lib/servermetrics.js';
import type { Scenario } from './types.js';

export interface SoakParams {
  /** Connections in total; null: as many as the open-file limit allows (100,000 at most with several nodes). */
  conns: number | null;
  /** Share of connections that send (0.01). */
  activeShare: number;
  /** Sends per second per active connection. */
  rate: number;
  groupSize: number;
  openWindow: number;
  settleSeconds: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Connections per node after which the RSS is read (then at full). */
  stages: number[];
}

const PRESETS = {
  quick: { conns: null, activeShare: 0.01, rate: 1, groupSize: 20, openWindow: 256, settleSeconds: 5, warmupSeconds: 5, durationSeconds: 60, stages: [5000, 10_000] },
  full: { conns: null, activeShare: 0.01, rate: 1, groupSize: 20, openWindow: 256, settleSeconds: 5, warmupSeconds: 5, durationSeconds: 60, stages: [5000, 10_000] },
  smoke: { conns: 200, activeShare: 0.05, rate: 4, groupSize: 5, openWindow: 16, settleSeconds: 0.5, warmupSeconds: 0.5, durationSeconds: 2, stages: [25, 50] },
} satisfies Record<Cli['preset'], SoakParams>;

/** Files a process needs besides its connections (database pool, Redis, listen socket, node's own). */
const FD_MARGIN = 1000;
const MAX_TOTAL = 100_000;
/** Time allowed per connection to open, per stage (slowest rate the bench waits for: 100/s). */
const OPEN_MS_PER_CONN = 10;
/** Deliveries arriving later than this after the window count as dropped. */
const LATE_MS = 2_000;

/** Source address of generator process i: 127.0.0.2 and up. */
function sourceAddress(index: number): string {
  return `127.0.${Math.floor((index + 2) / 256)}.${(index + 2) % 256}`;
}

function perNodeRss(pids: readonly number[]): number[] {
  return pids.map((pid) => round1((rssBytes(pid) ?? 0) / 2 ** 20));
}

export const soakScenario: Scenario<SoakParams> = {
  name: 'soak',

  configure(cli) {
    const preset = PRESETS[cli.preset];
    return {
      conns: cli.numbers.conns === undefined ? preset.conns : Math.round(cli.numbers.conns),
      activeShare: preset.activeShare,
      rate: pick(cli, 'rate', preset.rate),
      groupSize: pickCount(cli, 'group-size', preset.groupSize),
      openWindow: pickCount(cli, 'open-window', preset.openWindow),
      settleSeconds: pick(cli, 'settle', preset.settleSeconds),
      warmupSeconds: pick(cli, 'warmup', preset.warmupSeconds),
      durationSeconds: pick(cli, 'duration', preset.durationSeconds),
      stages: preset.stages,
    };
  },

  describe: (p) =>
    `${p.conns === null ? 'as many connections as the file limit allows' : `${formatCount(p.conns)} connections`}, ${p.activeShare * 100} % active at ${p.rate} sends/s each (group of ${p.groupSize} and private in turn), ${p.durationSeconds} s`,

  budgetMs: (p) => 240_000 + (p.conns ?? MAX_TOTAL) * (OPEN_MS_PER_CONN + 1) + (p.stages.length + 1) * p.settleSeconds * 1000 + (p.warmupSeconds + p.durationSeconds) * 1000 + 30_000,

  async run({ env, procs, deadline }, params) {
    const limit = openFileLimit();
    const perProcess = Number.isFinite(limit) ? limit - FD_MARGIN : MAX_TOTAL;
    const nodes = env.targets.length;
    const conns = params.conns ?? Math.min(nodes === 1 ? perProcess : MAX_TOTAL, nodes * perProcess);
    if (Math.ceil(conns / nodes) > perProcess) throw new Error(`${formatCount(conns)} connections on ${nodes} node(s) exceed the open-file limit ${limit} per node (raise ulimit -n, or add --nodes)`);
    // Enough generator processes that none passes the file limit (nor one source address's port range).
    const agents = Math.max(procs, Math.ceil(conns / perProcess));
    const groupSize = Math.min(params.groupSize, conns);

    const users = await seedUsers(env.sql, conns);
    const layout = await seedGroups(env.sql, users, Math.floor(conns / groupSize), groupSize);
    // Two dialog partners each (the ring neighbours): presence has someone to tell, and private sends go to u + 1.
    await seedPartners(env.sql, users, 2);
    const groupCount = layout.groups.count;
    // Member i of group g is user g * size + i (the ring, no wrap-around with floor(conns / size) groups);
    // the few users past the last full group join no group and only receive private messages.
    const every = Math.max(1, Math.round(1 / params.activeShare));
    const plan: SoakConn[] = Array.from({ length: conns }, (_, index) => {
      const g = Math.floor(index / groupSize);
      const active = index % every === 0 && g < groupCount;
      return {
        userId: users.first + index,
        node: nodeOf(index, agents, nodes),
        groupId: g < groupCount ? layout.groups.first + g : 0,
        partnerId: active ? users.first + ((index + 1) % conns) : null,
      };
    });
    // Contiguous slices per process, each opened in order: every stage then fills every node evenly.
    const parts: SoakConn[][] = Array.from({ length: agents }, () => []);
    plan.forEach((conn, index) => parts[index % agents]?.push(conn));

    const pool = forkAgents<SoakSetup, SoakInfo, SoakRound, SoakResult, SoakOpened>('soak', agents, deadline);
    try {
      const infos = await pool.setup(
        parts.map((part, index) => ({ targets: [...env.targets], secret: env.secret, conns: part, openConcurrency: params.openWindow, localAddress: sourceAddress(index) })),
        60_000 + conns,
      );
      const activeCount = sum(infos, (info) => info.active);
      await sleep(500);
      // With --gc, a full GC before each reading: what connections keep, not the bursts' garbage.
      const collected = await env.collectGarbage();
      const rssBefore = perNodeRss(env.serverPids);
      const memoryBefore = await Promise.all(env.targets.map((target) => serverMemory([target])));

      // Open in stages (per node: 5k, 10k, then all), weighing each node once the burst settled.
      const perNode = Math.ceil(conns / nodes);
      const stages = [...params.stages.filter((stage) => stage < perNode), perNode];
      const rssAt: { perNode: number; rssMiB: number[] }[] = [];
      const opened: SoakOpened[][] = [];
      for (const stage of stages) {
        const upTo = parts.map((part) => Math.ceil((part.length * stage) / perNode));
        pool.start(upTo.map((count) => ({ t: 'open', upTo: count })));
        // At least 100 handshakes/s: six nodes, their generators, Redis and PostgreSQL sharing two
        // cores opened 100,000 at about 190/s, which 2 ms per connection did not allow.
        opened.push(await pool.events(60_000 + conns * OPEN_MS_PER_CONN));
        await sleep(params.settleSeconds * 1000);
        await env.collectGarbage();
        rssAt.push({ perNode: stage, rssMiB: perNodeRss(env.serverPids) });
      }
      const memoryAfter = await Promise.all(env.targets.map((target) => serverMemory([target])));
      const all = opened.flat();
      const total = sum(all, (event) => event.opened);
      const failures = mergeCounts(all.map((event) => event.failures));
      const burstSeconds = sum(opened, (events) => (Math.max(...events.map((e) => e.finishedAt)) - Math.min(...events.map((e) => e.startedAt))) / 1e6);
      if (total < conns) throw new Error(`${conns - total} of ${conns} connections failed: ${describeFailures(failures)}`);

      // The load: a window fixed on the shared clock, the same in every process.
      const rate = activeCount * params.rate;
      const startAt = nowMicros();
      const from = startAt + params.warmupSeconds * 1e6;
      const until = from + params.durationSeconds * 1e6;
      pool.start(parts.map((part) => ({ t: 'load', rate: part.filter((conn) => conn.partnerId !== null).length * params.rate, from, until })));
      await sleep(params.warmupSeconds * 1000);
      await eventLoopDelayP99Ms(env.targets); // starts the server's delay window
      const redisPids = nodes > 1 ? pidsNamed('redis-server') : [];
      const machineMeter = startMachineMeter();
      const nodeMeters = env.serverPids.map((pid) => startCpuMeter([pid]));
      const databaseMeter = startCpuMeter(await env.databasePids());
      const redisMeter = startCpuMeter(redisPids);
      await sleep(Math.max(0, (until - nowMicros()) / 1000));
      const loopDelayP99 = await eventLoopDelayP99Ms(env.targets);
      const nodeCores = nodeMeters.map((meter) => round2(meter().cores));
      const machine = machineMeter();
      const database = databaseMeter(await env.databasePids());
      const redis = redisMeter();
      const rssLoaded = perNodeRss(env.serverPids);
      await sleep(LATE_MS);
      const results = (await pool.stop(30_000)).map((result) => result.data);

      const groupAcks = sum(results, (r) => r.groupAcks);
      const privateAcks = sum(results, (r) => r.privateAcks);
      const expected = groupAcks * (groupSize - 1) + privateAcks;
      const deliveries = sum(results, (r) => r.deliveries);
      const delivery = summarize(mergeHistograms(results.map((r) => r.delivery)));
      const metered = env.serverPids.length > 0;
      const full = rssAt[rssAt.length - 1];
      const growthKiB = (index: number, count: number): number | null =>
        metered && full !== undefined && count > 0 ? round2((((full.rssMiB[index] ?? 0) - (rssBefore[index] ?? 0)) * 1024) / count) : null;
      const perNodeFigures = env.targets.map((_, index) => ({
        connections: Math.round(conns / nodes),
        rssMiB: { before: rssBefore[index] ?? null, ...Object.fromEntries(rssAt.map((at) => [String(at.perNode), at.rssMiB[index] ?? null])), loaded: rssLoaded[index] ?? null },
        rssPerConnectionKiB: growthKiB(index, plan.filter((conn) => conn.node === index).length),
        heapPerConnectionKiB: perConnection(memoryBefore[index]?.heapUsedBytes, memoryAfter[index]?.heapUsedBytes, plan.filter((conn) => conn.node === index).length),
        cores: metered ? nodeCores[index] ?? null : null,
        eventLoopDelayP99Ms: loopDelayP99[index] ?? null,
        delivery: summarize(mergeHistograms(results.map((r) => r.deliveryByNode[index] ?? ''))),
      }));
      const errors = mergeCounts(results.map((r) => r.errors));
      const figures = {
        fileLimit: Number.isFinite(limit) ? limit : null,
        connections: total,
        active: activeCount,
        generatorProcesses: agents,
        fullGcBeforeReadings: collected,
        sourceAddresses: parts.map((_, index) => sourceAddress(index)),
        handshakesPerSecond: Math.round(total / burstSeconds),
        handshake: summarize(mergeHistograms(results.map((r) => r.handshake))),
        targetSendsPerSecond: rate,
        sendsPerSecond: Math.round((groupAcks + privateAcks) / params.durationSeconds),
        deliveriesPerSecond: Math.round(deliveries / params.durationSeconds),
        groupAcks,
        privateAcks,
        expectedDeliveries: expected,
        deliveries,
        dropped: expected - deliveries,
        unanswered: sum(results, (r) => r.unanswered),
        skipped: sum(results, (r) => r.skipped),
        errors,
        closedByServer: mergeCounts(results.map((r) => r.closedByServer)),
        stillOpen: sum(results, (r) => r.stillOpen),
        delivery,
        ack: summarize(mergeHistograms(results.map((r) => r.ack))),
        eventLoopDelayP99Ms: loopDelayP99.some((value) => value === null) ? null : Math.max(...(loopDelayP99 as number[])),
        nodes: perNodeFigures,
        load: {
          serverCores: metered ? round2(sum(nodeCores, (cores) => cores)) : null,
          databaseCores: round2(database.cores),
          redisCores: redisPids.length > 0 ? round2(redis.cores) : null,
          machineBusyCores: round2(machine.busyCores),
          machineStealCores: round2(machine.stealCores),
        },
      };
      const lines = [
        `file limit       ${Number.isFinite(limit) ? formatCount(limit) : 'unlimited'} per process: ${formatCount(total)} connections on ${nodes} node(s), ${agents} generator process(es) from ${figures.sourceAddresses[0]}..${figures.sourceAddresses[agents - 1]}`,
        `handshakes/s     ${formatCount(figures.handshakesPerSecond)}  (${formatCount(total)} in ${round2(burstSeconds)} s of bursts); handshake ${formatLatency(figures.handshake)}`,
        ...perNodeFigures.map(
          (node, index) =>
            `node ${index}           RSS ${node.rssMiB.before} MiB → ${rssAt.map((at) => `${at.rssMiB[index]} at ${formatCount(at.perNode)}`).join(', ')} MiB` +
            ` (${node.rssPerConnectionKiB ?? 'n/a'} KiB per idle connection${collected ? ' after a full GC' : ''}, JS heap ${node.heapPerConnectionKiB ?? 'n/a'}); loaded ${node.rssMiB.loaded} MiB; ${node.cores ?? 'n/a'} cores; event-loop delay p99 ${node.eventLoopDelayP99Ms ?? 'n/a'} ms; delivery p99 ${node.delivery.p99} ms`,
        ),
        `load             ${formatCount(activeCount)} active at ${params.rate}/s: ${formatCount(figures.sendsPerSecond)} sends/s committed (target ${formatCount(rate)}), ${formatCount(figures.deliveriesPerSecond)} deliveries/s`,
        `send → delivery  ${formatLatency(delivery)}`,
        `send → ack       ${formatLatency(figures.ack)}`,
        `drops            ${formatCount(figures.dropped)} of ${formatCount(expected)} deliveries missing ${LATE_MS / 1000} s after the window; ${figures.unanswered} sends unanswered, ${figures.skipped} skipped`,
        ...countsLine('errors', errors),
        ...countsLine('closed by server', figures.closedByServer),
        `during the load  server ${figures.load.serverCores ?? 'n/a'} cores, database ${figures.load.databaseCores}, Redis ${figures.load.redisCores ?? 'n/a'}; machine ${figures.load.machineBusyCores} cores busy`,
      ];
      return { figures, lines };
    } finally {
      await pool.close();
    }
  },
};

function perConnection(before: number | undefined, after: number | undefined, connections: number): number | null {
  return before === undefined || after === undefined || connections === 0 ? null : round2((after - before) / connections / 1024);
}

/**
 * `typing`: a typing storm. Every member of one group (50) sends `typing` 10 times a second;
 * the server must push at most one `typing` per typer per second to each other member, and
 * stay responsive: probe pairs time `privateMessage` send → reply meanwhile (target p99 <= 25 ms).
 */
import type { TypingConn, TypingInfo, TypingResult, TypingRound, TypingSetup } from '../agents/typing.js';
import { forkAgents, type AgentPool } from '../lib/agents.js';
import { mergeHistograms, summarize } from '../lib/histogram.js';
import { pick, pickCount, pickTiming, type Cli } from '../lib/options.js';
import { nodeOf, splitByAgent } from '../lib/plan.js';
import { countsLine, formatCount, formatLatency, formatLoad, round2, roundLoad } from '../lib/report.js';
import { measureRound, mergeCounts, ROUND_SLACK_MS, sum, type RoundTiming } from '../lib/round.js';
import { groupId, seedGroups, seedUsers } from '../lib/seed.js';
import type { Scenario } from './types.js';

export interface TypingParams {
  members: number;
  /** `typing` per member per second. */
  rate: number;
  /** privateMessage probe pairs, each side sending `probeRate` a second. */
  pairs: number;
  probeRate: number;
  openWindow: number;
  timing: RoundTiming;
}

const PRESETS = {
  quick: { members: 50, rate: 10, pairs: 10, probeRate: 20, openWindow: 256, timing: { warmupSeconds: 2, durationSeconds: 10 } },
  full: { members: 50, rate: 10, pairs: 10, probeRate: 20, openWindow: 256, timing: { warmupSeconds: 5, durationSeconds: 30 } },
  smoke: { members: 5, rate: 10, pairs: 1, probeRate: 10, openWindow: 8, timing: { warmupSeconds: 0.3, durationSeconds: 2.5 } },
} satisfies Record<Cli['preset'], TypingParams>;

export const typingScenario: Scenario<TypingParams> = {
  name: 'typing',

  configure(cli) {
    const preset = PRESETS[cli.preset];
    return {
      members: pickCount(cli, 'members', preset.members),
      rate: pick(cli, 'rate', preset.rate),
      pairs: pickCount(cli, 'pairs', preset.pairs),
      probeRate: preset.probeRate,
      openWindow: pickCount(cli, 'open-window', preset.openWindow),
      timing: pickTiming(cli, preset.timing),
    };
  },

  describe: (p) => `${p.members} members typing ${p.rate}/s each, ${p.pairs} privateMessage probe pair(s), ${p.timing.durationSeconds} s`,

  budgetMs: (p) => 90_000 + (p.timing.warmupSeconds + p.timing.durationSeconds) * 1000 + ROUND_SLACK_MS,

  async run({ env, procs, deadline }, params) {
    const users = await seedUsers(env.sql, params.members + 2 * params.pairs);
    const layout = await seedGroups(env.sql, { first: users.first, count: params.members }, 1, params.members);
    const gid = groupId(layout, 0);
    const conns: TypingConn[] = [];
    for (let i = 0; i < params.members; i++) {
      conns.push({ userId: users.first + i, groupId: gid, peerId: null, node: nodeOf(conns.length, procs, env.targets.length) });
    }
    for (let pair = 0; pair < params.pairs; pair++) {
      const a = users.first + params.members + 2 * pair;
      conns.push({ userId: a, groupId: null, peerId: a + 1, node: nodeOf(conns.length, procs, env.targets.length) });
      conns.push({ userId: a + 1, groupId: null, peerId: a, node: nodeOf(conns.length, procs, env.targets.length) });
    }
    const parts = splitByAgent(conns, procs);
    const pool: AgentPool<TypingSetup, TypingInfo, TypingRound, TypingResult, never> = forkAgents('typing', procs, deadline);
    try {
      await pool.setup(
        parts.map((part) => ({ targets: [...env.targets], secret: env.secret, conns: part, openConcurrency: params.openWindow })),
        60_000,
      );
      const rounds = parts.map(() => ({ typingRate: params.rate, probeRate: params.probeRate }));
      const { results, load } = await measureRound(pool, env, rounds, params.timing);
      const data = results.map((result) => result.data);
      const seconds = sum(data, (item) => item.windowSeconds) / Math.max(1, data.length);
      const pushes = sum(data, (item) => item.typingPushes);
      const gaps = data.map((item) => item.minGapMs).filter((gap): gap is number => gap !== null);
      const errors = mergeCounts(data.map((item) => item.errors));
      const figures = {
        typingPerSecond: Math.round(sum(data, (item) => item.typingSent) / seconds),
        typingPushesPerSecond: Math.round(pushes / seconds),
        // About 1: one push per typer per second at each other member (a window of W seconds can
        // hold floor(W) + 1 of them, so slightly above 1 in short rounds).
        pushesPerTyperPerReceiverPerSecond: round2(pushes / (params.members * (params.members - 1) * seconds)),
        tooSoon: sum(data, (item) => item.tooSoon),
        minGapMs: gaps.length === 0 ? null : Math.min(...gaps),
        probeSendsPerSecond: Math.round(sum(data, (item) => item.probeSends) / seconds),
        probe: summarize(mergeHistograms(data.map((item) => item.probe))),
        errors,
        closedByServer: mergeCounts(data.map((item) => item.closedByServer)),
        load: roundLoad(load),
      };
      const lines = [
        `typing sent/s    ${formatCount(figures.typingPerSecond)}; pushed ${formatCount(figures.typingPushesPerSecond)}/s = ${figures.pushesPerTyperPerReceiverPerSecond} per typer per receiver per second (at most 1)`,
        `throttle         ${figures.tooSoon} push(es) of one typer less than 900 ms apart; shortest gap ${figures.minGapMs ?? 'n/a'} ms`,
        `privateMessage   send → reply ${formatLatency(figures.probe)} (${formatCount(figures.probeSendsPerSecond)} sends/s)`,
        ...formatLoad(load),
        ...countsLine('errors', errors),
        ...countsLine('closed by server', figures.closedByServer),
      ];
      return { figures, lines };
    } finally {
      await pool.close();
    }
  },
};

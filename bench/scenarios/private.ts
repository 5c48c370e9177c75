/**
 * `private`: P pairs of users play ping-pong with `privateMessage` (see agents/private.ts).
 * Figures: committed sends/s and the round-trip latency (ping sent → pong received: two
 * commits and two pushes). `--mix v12`: replies and reactions in the mix (agents/private.ts).
 */
import type { PrivateConn, PrivateInfo, PrivateResult, PrivateRound, PrivateSetup } from '../agents/private.js';
import { forkAgents, type AgentPool } from '../lib/agents.js';
import { mergeHistograms, summarize } from '../lib/histogram.js';
import { pickCount, pickTiming, type Cli } from '../lib/options.js';
import { nodeOf, splitByAgent } from '../lib/plan.js';
import { countsLine, formatCount, formatLatency, formatLoad, roundLoad } from '../lib/report.js';
import { measureRound, mergeCounts, ROUND_SLACK_MS, sum, type RoundTiming } from '../lib/round.js';
import { seedUsers } from '../lib/seed.js';
import type { Scenario } from './types.js';
import type { Mix } from '../lib/mix.js';

export interface PrivateParams {
  pairs: number;
  /** Pings each connection keeps in play. */
  balls: number;
  openWindow: number;
  mix: Mix;
  timing: RoundTiming;
}

const PRESETS = {
  quick: { pairs: 200, balls: 1, openWindow: 256, mix: 'plain', timing: { warmupSeconds: 2, durationSeconds: 10 } },
  full: { pairs: 200, balls: 1, openWindow: 256, mix: 'plain', timing: { warmupSeconds: 5, durationSeconds: 30 } },
  smoke: { pairs: 2, balls: 1, openWindow: 8, mix: 'plain', timing: { warmupSeconds: 0.3, durationSeconds: 1 } },
} satisfies Record<Cli['preset'], PrivateParams>;

export const privateScenario: Scenario<PrivateParams> = {
  name: 'private',

  configure(cli) {
    const preset = PRESETS[cli.preset];
    return {
      pairs: pickCount(cli, 'pairs', preset.pairs),
      balls: pickCount(cli, 'balls', preset.balls),
      openWindow: pickCount(cli, 'open-window', preset.openWindow),
      mix: cli.mix,
      timing: pickTiming(cli, preset.timing),
    };
  },

  describe: (p) => `${p.pairs} pairs, ${p.balls} ping(s) in play per side, ${p.timing.durationSeconds} s${p.mix === 'plain' ? '' : `, mix ${p.mix}`}`,

  budgetMs: (p) => 90_000 + (p.timing.warmupSeconds + p.timing.durationSeconds) * 1000 + ROUND_SLACK_MS,

  async run({ env, procs, deadline }, params) {
    const users = await seedUsers(env.sql, params.pairs * 2);
    const conns: PrivateConn[] = [];
    for (let pair = 0; pair < params.pairs; pair++) {
      const a = users.first + 2 * pair;
      const b = a + 1;
      conns.push({ userId: a, peerId: b, node: nodeOf(conns.length, procs, env.targets.length) });
      conns.push({ userId: b, peerId: a, node: nodeOf(conns.length, procs, env.targets.length) });
    }
    const parts = splitByAgent(conns, procs);
    const pool: AgentPool<PrivateSetup, PrivateInfo, PrivateRound, PrivateResult, never> = forkAgents('private', procs, deadline);
    try {
      await pool.setup(
        parts.map((part) => ({ targets: [...env.targets], secret: env.secret, conns: part, openConcurrency: params.openWindow })),
        60_000,
      );
      const { results, load } = await measureRound(pool, env, parts.map(() => ({ balls: params.balls, mix: params.mix })), params.timing);
      const data = results.map((result) => result.data);
      const seconds = sum(data, (item) => item.windowSeconds) / Math.max(1, data.length);
      const acks = sum(data, (item) => item.acks);
      const errors = mergeCounts(data.map((item) => item.errors));
      const figures = {
        sendsPerSecond: Math.round(acks / seconds),
        roundTripsPerSecond: Math.round(sum(data, (item) => item.roundTrips) / seconds),
        roundTrip: summarize(mergeHistograms(data.map((item) => item.roundTrip))),
        ack: summarize(mergeHistograms(data.map((item) => item.ack))),
        errors,
        otherPushes: sum(data, (item) => item.otherPushes),
        repliesPerSecond: Math.round(sum(data, (item) => item.replies) / seconds),
        reactionsPerSecond: Math.round(sum(data, (item) => item.reactions) / seconds),
        reactionPushesPerSecond: Math.round(sum(data, (item) => item.reactionPushes) / seconds),
        closedByServer: mergeCounts(data.map((item) => item.closedByServer)),
        load: roundLoad(load),
      };
      const lines = [
        `committed sends/s ${formatCount(figures.sendsPerSecond)}  (${formatCount(figures.roundTripsPerSecond)} round trips/s)`,
        `round trip       ${formatLatency(figures.roundTrip)}`,
        ...(params.mix === 'plain' ? [] : [`of which         ${formatCount(figures.repliesPerSecond)} replies/s, ${formatCount(figures.reactionsPerSecond)} reactions/s (${formatCount(figures.reactionPushesPerSecond)} reaction pushes/s)`]),
        `send → ack       ${formatLatency(figures.ack)}`,
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

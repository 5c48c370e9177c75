/**
 * `fanout`: G groups of M members, every member connected, S senders sending
 * `messageInGroup`. The closed-loop round finds the committed send rate and delivery rate;
 * the open-loop round sends at a fixed rate (--rate, default half the closed-loop rate) and
 * gives latency without coordinated omission. Each send should reach M - 1 connections.
 * `--mix v12`: replies, mentions and reactions in the mix (agents/fanout.ts).
 */
import type { FanoutConn, FanoutInfo, FanoutResult, FanoutRound, FanoutSetup } from '../agents/fanout.js';
import { forkAgents, type AgentPool } from '../lib/agents.js';
import { sleep } from '../lib/clock.js';
import type { BenchEnv } from '../lib/harness.js';
import { mergeHistograms, summarize } from '../lib/histogram.js';
import { pickCount, pickTiming, type Cli } from '../lib/options.js';
import { nodeOf, splitByAgent } from '../lib/plan.js';
import { costPer100k, countsLine, formatCost, formatCount, formatLatency, formatLoad, round1, roundLoad, type DeliveryCost, type LoadFigures } from '../lib/report.js';
import { measureRound, mergeCounts, ROUND_SLACK_MS, sum, type RoundTiming } from '../lib/round.js';
import { groupId, groupMember, seedGroups, seedUsers } from '../lib/seed.js';
import type { Scenario } from './types.js';
import type { Mix } from '../lib/mix.js';

export interface FanoutParams {
  groups: number;
  members: number;
  senders: number;
  mode: 'closed' | 'open' | 'both';
  /** Open-loop sends/s in total; null: half the closed-loop rate (or 1,000 without a closed round). */
  rate: number | null;
  openWindow: number;
  mix: Mix;
  timing: RoundTiming;
}

const PRESETS = {
  quick: { groups: 100, members: 50, senders: 1000, mode: 'both', rate: null, openWindow: 256, mix: 'plain', timing: { warmupSeconds: 2, durationSeconds: 10 } },
  full: { groups: 100, members: 50, senders: 1000, mode: 'both', rate: null, openWindow: 256, mix: 'plain', timing: { warmupSeconds: 5, durationSeconds: 30 } },
  smoke: { groups: 2, members: 5, senders: 4, mode: 'both', rate: null, openWindow: 8, mix: 'plain', timing: { warmupSeconds: 0.3, durationSeconds: 1 } },
} satisfies Record<Cli['preset'], FanoutParams>;

const FALLBACK_OPEN_RATE = 1000;

type Pool = AgentPool<FanoutSetup, FanoutInfo, FanoutRound, FanoutResult, never>;

interface RoundFigures {
  sendsPerSecond: number;
  deliveriesPerSecond: number;
  deliveriesPerSend: number;
  delivery: ReturnType<typeof summarize>;
  ack: ReturnType<typeof summarize>;
  errors: Record<string, number>;
  otherPushes: number;
  closedByServer: Record<string, number>;
  skipped: number;
  /** v12 mix: acked sends by kind; deliveries of reaction pushes (counted among deliveries). */
  kinds: Record<string, number>;
  reactionDeliveries: number;
  load: LoadFigures;
  /** CPU seconds of each part per 100,000 deliveries. */
  costPer100kDeliveries: DeliveryCost;
}

async function runRound(pool: Pool, env: BenchEnv, rounds: FanoutRound[], timing: RoundTiming): Promise<RoundFigures> {
  const { results, load } = await measureRound(pool, env, rounds, timing);
  const data = results.map((result) => result.data);
  const seconds = sum(data, (item) => item.windowSeconds) / Math.max(1, data.length);
  const acks = sum(data, (item) => item.acks);
  const deliveries = sum(data, (item) => item.deliveries);
  const deliveriesPerSecond = Math.round(deliveries / seconds);
  return {
    sendsPerSecond: Math.round(acks / seconds),
    deliveriesPerSecond,
    deliveriesPerSend: acks > 0 ? round1(deliveries / acks) : 0,
    delivery: summarize(mergeHistograms(data.map((item) => item.delivery))),
    ack: summarize(mergeHistograms(data.map((item) => item.ack))),
    errors: mergeCounts(data.map((item) => item.errors)),
    otherPushes: sum(data, (item) => item.otherPushes),
    closedByServer: mergeCounts(data.map((item) => item.closedByServer)),
    skipped: sum(data, (item) => item.skipped),
    kinds: mergeCounts(data.map((item) => item.kinds)),
    reactionDeliveries: sum(data, (item) => item.reactionDeliveries),
    load: roundLoad(load),
    costPer100kDeliveries: costPer100k(load, deliveriesPerSecond),
  };
}

function describeRound(figures: RoundFigures): string[] {
  return [
    `committed sends/s ${formatCount(figures.sendsPerSecond)}`,
    `deliveries/s     ${formatCount(figures.deliveriesPerSecond)}  (${figures.deliveriesPerSend} per send)`,
    `send → delivery  ${formatLatency(figures.delivery)}`,
    `send → ack       ${formatLatency(figures.ack)}`,
    ...formatLoad(figures.load),
    formatCost(figures.costPer100kDeliveries),
    ...countsLine('sends by kind', Object.keys(figures.kinds).length > 1 ? figures.kinds : {}),
    ...(figures.reactionDeliveries > 0 ? [`reaction pushes  ${formatCount(figures.reactionDeliveries)} of the deliveries (untimed)`] : []),
    ...countsLine('errors', figures.errors),
    ...countsLine('closed by server', figures.closedByServer),
    ...(figures.skipped > 0 ? [`skipped          ${figures.skipped} sends (a connection had 1,000 unanswered)`] : []),
  ];
}

export const fanoutScenario: Scenario<FanoutParams> = {
  name: 'fanout',

  configure(cli) {
    const preset = PRESETS[cli.preset];
    const groups = pickCount(cli, 'groups', preset.groups);
    const conns = cli.numbers.conns;
    const members = cli.numbers.members ?? (conns === undefined ? preset.members : Math.max(2, Math.round(conns / groups)));
    return {
      groups,
      members: Math.round(members),
      senders: Math.min(pickCount(cli, 'senders', preset.senders), groups * Math.round(members)),
      mode: cli.mode ?? preset.mode,
      rate: cli.numbers.rate ?? preset.rate,
      openWindow: pickCount(cli, 'open-window', preset.openWindow),
      mix: cli.mix,
      timing: pickTiming(cli, preset.timing),
    };
  },

  describe: (p) =>
    `${p.groups} groups × ${p.members} members (${formatCount(p.groups * p.members)} connections), ${formatCount(p.senders)} senders, ${p.mode === 'both' ? 'closed- then open-loop' : `${p.mode} loop`}, ${p.timing.durationSeconds} s rounds${p.mix === 'plain' ? '' : `, mix ${p.mix}`}`,

  budgetMs: (p) => 120_000 + p.groups * p.members * 5 + 2 * ((p.timing.warmupSeconds + p.timing.durationSeconds) * 1000 + ROUND_SLACK_MS),

  async run({ env, procs, deadline }, params) {
    const { groups, members, senders } = params;
    const users = await seedUsers(env.sql, groups * members);
    const layout = await seedGroups(env.sql, users, groups, members);
    const conns: FanoutConn[] = [];
    for (let g = 0; g < groups; g++) {
      for (let m = 0; m < members; m++) {
        // Senders fill member slot 0 of every group, then slot 1 ...: spread evenly over groups.
        conns.push({
          userId: groupMember(layout, g, m), groupId: groupId(layout, g), sender: m * groups + g < senders, node: nodeOf(conns.length, procs, env.targets.length),
          // Two other members of the group (v12 mentions).
          mentions: [groupMember(layout, g, (m + 1) % members), groupMember(layout, g, (m + 2) % members)],
        });
      }
    }
    const parts = splitByAgent(conns, procs);
    const sendersPerAgent = parts.map((part) => part.filter((conn) => conn.sender).length);
    const pool: Pool = forkAgents('fanout', procs, deadline);
    try {
      await pool.setup(
        parts.map((part) => ({ targets: [...env.targets], secret: env.secret, conns: part, openConcurrency: params.openWindow })),
        60_000 + conns.length * 5,
      );
      const figures: Record<string, unknown> = {};
      const lines: string[] = [];
      let closedRate: number | null = null;
      if (params.mode !== 'open') {
        const closed = await runRound(pool, env, parts.map(() => ({ mode: 'closed', rate: 0, mix: params.mix })), params.timing);
        closedRate = closed.sendsPerSecond;
        figures['closed'] = closed;
        lines.push('closed loop (each sender waits for its ack):', ...describeRound(closed).map((line) => `  ${line}`));
        await sleep(1000);
      }
      if (params.mode !== 'closed') {
        const rate = params.rate ?? (closedRate !== null && closedRate > 0 ? Math.round(closedRate / 2) : FALLBACK_OPEN_RATE);
        const open = await runRound(
          pool,
          env,
          sendersPerAgent.map((count) => ({ mode: 'open', rate: (rate * count) / senders, mix: params.mix })),
          params.timing,
        );
        figures['open'] = { targetRate: rate, ...open };
        lines.push(`open loop at ${formatCount(rate)} sends/s (latency from the scheduled send time):`, ...describeRound(open).map((line) => `  ${line}`));
      }
      return { figures, lines };
    } finally {
      await pool.close();
    }
  },
};

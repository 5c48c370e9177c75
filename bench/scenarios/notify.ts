/**
 * `notify`: G groups of M members of whom only `online` per group are connected (all of them
 * senders, closed loop); the other members are offline with a Web Push subscription each, at a
 * push service of the bench's own (lib/pushsink.ts). Measures the sends/s, the notifications
 * delivered per second to the push service, the CPU of the server and of PostgreSQL per
 * notification, and the notification queue's depth each second. With folding (5 s per
 * recipient and conversation) an offline member gets at most one notification per group per
 * 5 s: G * (M - online) / 5 per second is the ceiling.
 *
 * Against a server without push (--entry of an older build) or with PUSH_ENABLED=0 the same load
 * gives the send rate to compare with (no subscriptions are seeded where the table is missing).
 */
import { createECDH, randomBytes } from 'node:crypto';
import type { FanoutConn, FanoutInfo, FanoutResult, FanoutRound, FanoutSetup } from '../agents/fanout.js';
import { forkAgents, type AgentPool } from '../lib/agents.js';
import { sleep } from '../lib/clock.js';
import { pickCount, pickTiming, type Cli } from '../lib/options.js';
import { nodeOf, splitByAgent } from '../lib/plan.js';
import { formatCount, formatLoad, round2, roundLoad } from '../lib/report.js';
import { measureRound, ROUND_SLACK_MS, sum, type RoundTiming } from '../lib/round.js';
import { groupId, groupMember, seedGroups, seedUsers } from '../lib/seed.js';
import { startPushSink } from '../lib/pushsink.js';
import type { Scenario } from './types.js';

export interface NotifyParams {
  groups: number;
  members: number;
  /** Connected members per group (the senders); the rest are offline and subscribed. */
  online: number;
  timing: RoundTiming;
}

const PRESETS = {
  quick: { groups: 100, members: 50, online: 10, timing: { warmupSeconds: 3, durationSeconds: 20 } },
  full: { groups: 100, members: 50, online: 10, timing: { warmupSeconds: 5, durationSeconds: 30 } },
  smoke: { groups: 2, members: 5, online: 2, timing: { warmupSeconds: 0.3, durationSeconds: 1.5 } },
} satisfies Record<Cli['preset'], NotifyParams>;

type Pool = AgentPool<FanoutSetup, FanoutInfo, FanoutRound, FanoutResult, never>;

/** Web Push needs a real P-256 key to encrypt to; one pair serves every seeded subscription. */
const subscriptionKeys = (): { p256dh: string; auth: string } => ({
  p256dh: createECDH('prime256v1').generateKeys().toString('base64url'),
  auth: randomBytes(16).toString('base64url'),
});

export const notifyScenario: Scenario<NotifyParams> = {
  name: 'notify',

  configure(cli) {
    const preset = PRESETS[cli.preset];
    const members = pickCount(cli, 'members', preset.members);
    return {
      groups: pickCount(cli, 'groups', preset.groups),
      members,
      online: Math.min(members - 1, pickCount(cli, 'senders', preset.online)),
      timing: pickTiming(cli, preset.timing),
    };
  },

  // The server may post Web Push to the bench's own push service (plain http on loopback).
  serverEnv: { PUSH_ENDPOINT_HOSTS: '127.0.0.1', PUSH_ALLOW_HTTP: '1' },

  describe: (p) =>
    `${p.groups} groups × ${p.members} members, ${p.online} online per group (${formatCount(p.groups * p.online)} senders, closed loop), ` +
    `${formatCount(p.groups * (p.members - p.online))} offline with a subscription, ${p.timing.durationSeconds} s round`,

  budgetMs: (p) => 120_000 + p.groups * p.members * 5 + (p.timing.warmupSeconds + p.timing.durationSeconds) * 1000 + ROUND_SLACK_MS,

  async run({ env, procs, deadline }, params) {
    const { groups, members, online } = params;
    const sink = await startPushSink();
    try {
      const users = await seedUsers(env.sql, groups * members);
      const layout = await seedGroups(env.sql, users, groups, members);
      const [{ push } = { push: false }] = await env.sql<{ push: boolean }[]>`select to_regclass('push_subscriptions') is not null as push`;
      if (push) {
        const keys = subscriptionKeys();
        // Every member from slot `online` on is offline: one subscription each.
        await env.sql.unsafe(
          `insert into push_subscriptions (user_id, endpoint, p256dh, auth)
           select distinct ${users.first} + ((g * ${members} + i) % ${users.count}), $1 || '/p/' || (g * ${members} + i), $2, $3
           from generate_series(0, ${groups - 1}) g, generate_series(${online}, ${members - 1}) i
           on conflict do nothing`,
          [sink.origin, keys.p256dh, keys.auth],
        );
      }
      const conns: FanoutConn[] = [];
      for (let g = 0; g < groups; g++) {
        for (let m = 0; m < online; m++) {
          conns.push({ userId: groupMember(layout, g, m), groupId: groupId(layout, g), sender: true, mentions: [], node: nodeOf(conns.length, procs, env.targets.length) });
        }
      }
      const parts = splitByAgent(conns, procs);
      const pool: Pool = forkAgents('fanout', procs, deadline);
      try {
        await pool.setup(parts.map((part) => ({ targets: [...env.targets], secret: env.secret, conns: part, openConcurrency: 256 })), 60_000 + conns.length * 5);
        // Each second: messages not yet expanded / notifications waiting (folding) / deliveries not done.
        const depth: string[] = [];
        const sampler = setInterval(() => {
          if (!push) return;
          env.sql<{ o: number; p: number; d: number }[]>`
            select (select count(*) from push_outbox)::int as o, (select count(*) from push_state where pending_id is not null)::int as p,
                   (select count(*) from push_deliveries)::int as d`.then(([row]) => { depth.push(`${row?.o}/${row?.p}/${row?.d}`); }, () => undefined);
        }, 1000);
        const started = Date.now();
        const { results, load } = await measureRound(pool, env, parts.map(() => ({ mode: 'closed' as const, rate: 0, mix: 'plain' as const })), params.timing);
        clearInterval(sampler);
        const markAt = started + params.timing.warmupSeconds * 1000;
        const data = results.map((r) => r.data);
        const seconds = sum(data, (d) => d.windowSeconds) / Math.max(1, data.length);
        const sends = sum(data, (d) => d.acks);
        const notified = sink.countBetween(markAt, markAt + seconds * 1000);
        const notificationsPerSecond = Math.round(notified / seconds);
        const sendsPerSecond = Math.round(sends / seconds);
        const per = (cores: number | null): number | null => (cores === null || notificationsPerSecond === 0 ? null : round2((cores / notificationsPerSecond) * 1e6));
        // After the load: how long the queue takes to drain.
        const drainStart = Date.now();
        let drained: number | null = null;
        while (push && Date.now() - drainStart < 15_000) {
          const [row] = await env.sql<{ n: number }[]>`select ((select count(*) from push_outbox) + (select count(*) from push_deliveries))::int as n`;
          if ((row?.n ?? 0) === 0) { drained = Date.now() - drainStart; break; }
          await sleep(200);
        }
        const figures = {
          push,
          sendsPerSecond,
          notificationsPerSecond,
          notificationsTotal: sink.total(),
          ceilingPerSecond: Math.round((groups * (members - online)) / 5),
          cpuMicrosPerNotification: { relay: per(load.serverCores), postgres: per(load.databaseCores) },
          queueDepthPerSecond: depth,
          drainedMs: drained,
          load: roundLoad(load),
        };
        const lines = [
          `committed sends/s      ${formatCount(sendsPerSecond)}`,
          push
            ? `notifications/s        ${formatCount(notificationsPerSecond)} (folding ceiling ${formatCount(figures.ceilingPerSecond)}; ${formatCount(sink.total())} in all, warm-up and drain included)`
            : 'notifications          none: the server has no push tables (an older build)',
          `CPU µs / notification  Relay ${figures.cpuMicrosPerNotification.relay ?? 'n/a'}, PostgreSQL ${figures.cpuMicrosPerNotification.postgres ?? 'n/a'}`,
          `queue each s (outbox/waiting/deliveries) ${depth.join(' ') || 'n/a'}`,
          `queue drained          ${drained === null ? 'n/a' : `${drained} ms after the load`}`,
          ...formatLoad(figures.load),
        ];
        return { figures, lines };
      } finally {
        await pool.close();
      }
    } finally {
      await sink.close();
    }
  },
};

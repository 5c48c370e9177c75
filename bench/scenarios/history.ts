/**
 * `history`: a database seeded with N messages (half in groups, half in dialogs) over U users
 * and G groups, then each read request at a fixed concurrency, one round per request type.
 * Figures per type: requests/s and latency; plus how long seeding took. `--mix v12`: reactions
 * on a third of the messages (every third id), so a page of 20 carries six or seven.
 */
import type { HistoryConn, HistoryInfo, HistoryKind, HistoryResult, HistoryRound, HistorySetup } from '../agents/history.js';
import { forkAgents, type AgentPool } from '../lib/agents.js';
import { sleep } from '../lib/clock.js';
import { mergeHistograms, summarize } from '../lib/histogram.js';
import { pickCount, pickTiming, type Cli } from '../lib/options.js';
import { nodeOf, splitByAgent } from '../lib/plan.js';
import { countsLine, formatCount, formatLatency, formatLoad, round1, round2, roundLoad } from '../lib/report.js';
import { measureRound, mergeCounts, ROUND_SLACK_MS, sum, type RoundTiming } from '../lib/round.js';
import { analyze, seedDialogs, seedGroups, seedMessages, seedReactions, seedUsers, type IdRange } from '../lib/seed.js';
import type { Mix } from '../lib/mix.js';
import type postgres from 'postgres';
import type { Scenario } from './types.js';
import { explainHistory } from '../lib/explain.js';

// deleteMessage last: it erases the messages the other rounds read and edit.
const KINDS: readonly HistoryKind[] = ['listLastMessage', 'getlatestMessageDialog', 'getlatestMessageGroup', 'markRead', 'editMessage', 'deleteMessage'];
/** What `quick` and `full` run by default: the reads and markRead (edit and delete on request, and in `smoke`). */
const DEFAULT_KINDS: HistoryKind[] = ['listLastMessage', 'getlatestMessageDialog', 'getlatestMessageGroup', 'markRead'];
/** markRead walks through this many of the newest messages of each group, oldest first. */
const READ_IDS_PER_GROUP = 1000;
/** editMessage and deleteMessage go round this many of the connection's own messages. */
const OWN_IDS = 200;

export interface HistoryParams {
  users: number;
  groups: number;
  groupSize: number;
  /** Dialog partners per user (even: u ± 1 .. u ± partners/2). */
  partners: number;
  messages: number;
  concurrency: number;
  limit: number;
  kinds: HistoryKind[];
  /** Print EXPLAIN (ANALYZE, BUFFERS) of the three reads before the rounds. */
  explain: boolean;
  mix: Mix;
  timing: RoundTiming;
}

const PRESETS = {
  quick: { users: 10_000, groups: 1000, groupSize: 50, partners: 10, messages: 1_000_000, concurrency: 50, limit: 20, kinds: [...DEFAULT_KINDS], timing: { warmupSeconds: 1, durationSeconds: 6 }, explain: false, mix: 'plain' },
  full: { users: 10_000, groups: 1000, groupSize: 50, partners: 10, messages: 1_000_000, concurrency: 50, limit: 20, kinds: [...DEFAULT_KINDS], timing: { warmupSeconds: 3, durationSeconds: 30 }, explain: false, mix: 'plain' },
  smoke: { users: 50, groups: 10, groupSize: 5, partners: 4, messages: 2000, concurrency: 4, limit: 20, kinds: [...KINDS], timing: { warmupSeconds: 0.3, durationSeconds: 1 }, explain: false, mix: 'plain' },
} satisfies Record<Cli['preset'], HistoryParams>;

function isKind(kind: string): kind is HistoryKind {
  return (KINDS as readonly string[]).includes(kind);
}

/** Concurrency users spread evenly over the id range, with their groups and partners as seeded. */
async function planConnections(sql: postgres.Sql, users: IdRange, concurrency: number, procs: number, nodes: number): Promise<HistoryConn[]> {
  const ids = Array.from({ length: concurrency }, (_, index) => users.first + Math.floor((index * users.count) / concurrency));
  const groups = await sql<{ userId: number; groupIds: number[] }[]>`
    select user_id as "userId", array_agg(group_id order by group_id) as "groupIds"
    from group_members where user_id = any(${ids}::int[]) group by user_id`;
  const dialogs = await sql<{ lo: number; hi: number }[]>`
    select user_lo as lo, user_hi as hi from dialogs where user_lo = any(${ids}::int[]) or user_hi = any(${ids}::int[])`;
  const groupIds = [...new Set(groups.flatMap((row) => row.groupIds))];
  // Through the (group_id, id desc) index: the newest of each group, then oldest first.
  const reads = await sql<{ groupId: number; ids: string[] }[]>`
    select g.id as "groupId", array(
      select id from (select m.id from messages m where m.group_id = g.id order by m.id desc limit ${READ_IDS_PER_GROUP}) newest order by id
    ) as ids
    from unnest(${groupIds}::int[]) as g(id)`;
  const own = await sql<{ userId: number; ids: string[] }[]>`
    select u.id as "userId", array(
      select m.id from group_members gm join messages m on m.group_id = gm.group_id and m.sender_id = u.id
      where gm.user_id = u.id limit ${OWN_IDS}
    ) as ids
    from unnest(${ids}::int[]) as u(id)`;
  const readIdsOf = new Map(reads.map((row) => [row.groupId, row.ids.map(Number)]));
  return ids.map((userId, index) => {
    const mine = groups.find((row) => row.userId === userId)?.groupIds ?? [];
    return {
      userId,
      node: nodeOf(index, procs, nodes),
      groupIds: mine,
      partnerIds: dialogs.filter((row) => row.lo === userId || row.hi === userId).map((row) => (row.lo === userId ? row.hi : row.lo)),
      readIds: mine.map((groupId) => readIdsOf.get(groupId) ?? []),
      ownIds: (own.find((row) => row.userId === userId)?.ids ?? []).map(Number),
    };
  });
}

export const historyScenario: Scenario<HistoryParams> = {
  name: 'history',

  configure(cli) {
    const preset = PRESETS[cli.preset];
    const kinds = cli.kinds ?? preset.kinds;
    const unknown = kinds.filter((kind) => !isKind(kind));
    if (unknown.length > 0) throw new Error(`unknown --kinds ${unknown.join(', ')} (have ${KINDS.join(', ')})`);
    return {
      users: pickCount(cli, 'users', preset.users),
      groups: pickCount(cli, 'groups', preset.groups),
      groupSize: pickCount(cli, 'group-size', preset.groupSize),
      partners: pickCount(cli, 'partners', preset.partners),
      messages: pickCount(cli, 'messages', preset.messages),
      concurrency: pickCount(cli, 'concurrency', preset.concurrency),
      limit: pickCount(cli, 'limit', preset.limit),
      kinds: kinds.filter(isKind),
      explain: cli.explain || preset.explain,
      mix: cli.mix,
      timing: pickTiming(cli, preset.timing),
    };
  },

  describe: (p) =>
    `${formatCount(p.messages)} messages, ${formatCount(p.users)} users, ${formatCount(p.groups)} groups of ${p.groupSize}, ${p.partners} partners each; concurrency ${p.concurrency}, limit ${p.limit}${p.mix === 'v12' ? '; reactions on a third of the messages' : ''}`,

  budgetMs: (p) => 120_000 + p.messages / 10 + p.kinds.length * ((p.timing.warmupSeconds + p.timing.durationSeconds) * 1000 + ROUND_SLACK_MS),

  async run({ env, procs, deadline }, params) {
    if (params.groups * params.groupSize < params.users) throw new Error('groups × group size must cover every user (each user in at least one group)');
    if (params.partners >= params.users) throw new Error('--partners must be below --users');
    const seedStarted = performance.now();
    const users = await seedUsers(env.sql, params.users);
    const groups = await seedGroups(env.sql, users, params.groups, params.groupSize);
    const dialogs = await seedDialogs(env.sql, users, Math.max(1, Math.floor(params.partners / 2)));
    await seedMessages(env.sql, groups, dialogs, params.messages);
    if (params.mix === 'v12') await seedReactions(env.sql, 3);
    await analyze(env.sql);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const conns = await planConnections(env.sql, users, params.concurrency, procs, env.targets.length);
    const agents = Math.min(procs, conns.length);
    const parts = splitByAgent(conns, agents);
    const pool: AgentPool<HistorySetup, HistoryInfo, HistoryRound, HistoryResult, never> = forkAgents('history', agents, deadline);
    try {
      await pool.setup(
        parts.map((part) => ({ targets: [...env.targets], secret: env.secret, conns: part, openConcurrency: 64 })),
        60_000,
      );
      const figures: Record<string, unknown> = { seedSeconds: round1(seedSeconds) };
      const lines = [`seeded in ${round1(seedSeconds)} s`];
      const probe = conns.find((conn) => conn.partnerIds.length > 0 && conn.groupIds.length > 0);
      if (params.explain && probe !== undefined) {
        // Before the rounds: markRead, edit and delete would change what the plans read.
        const plans = await explainHistory(env.databaseUrl, { me: probe.userId, peer: probe.partnerIds[0] ?? 0, groupId: probe.groupIds[0] ?? 0, limit: params.limit });
        figures['explain'] = plans;
        for (const [kind, plan] of Object.entries(plans)) lines.push(`EXPLAIN (ANALYZE, BUFFERS) ${kind} (user ${probe.userId}):`, ...plan.split('\n').map((line) => `  ${line}`));
      }
      for (const kind of params.kinds) {
        const { results, load } = await measureRound(pool, env, parts.map(() => ({ kind, limit: params.limit })), params.timing);
        const data = results.map((result) => result.data);
        const seconds = sum(data, (item) => item.windowSeconds) / Math.max(1, data.length);
        const sampled = sum(data, (item) => item.sampledReplies);
        const errors = mergeCounts(data.map((item) => item.errors));
        const requestsPerSecond = Math.round(sum(data, (item) => item.replies) / seconds);
        const round = {
          requestsPerSecond,
          // Server CPU per request (µs): what a read costs the server whatever the machine's load.
          serverMicrosPerRequest: load.serverCores === null || requestsPerSecond === 0 ? null : Math.round((load.serverCores * 1e6) / requestsPerSecond),
          databaseMicrosPerRequest: load.databaseCores === null || requestsPerSecond === 0 ? null : Math.round((load.databaseCores * 1e6) / requestsPerSecond),
          latency: summarize(mergeHistograms(data.map((item) => item.latency))),
          rowsPerReply: sampled > 0 ? round2(sum(data, (item) => item.sampledRows) / sampled) : 0,
          errors,
          closedByServer: mergeCounts(data.map((item) => item.closedByServer)),
          load: roundLoad(load),
        };
        figures[kind] = round;
        lines.push(
          `${kind}:`,
          `  requests/s       ${formatCount(round.requestsPerSecond)}  (${round.rowsPerReply} rows per reply)`,
          `  latency          ${formatLatency(round.latency)}`,
          ...(round.serverMicrosPerRequest === null ? [] : [`  CPU per request  server ${round.serverMicrosPerRequest} µs, database ${round.databaseMicrosPerRequest ?? '?'} µs`]),
          ...formatLoad(load).map((line) => `  ${line}`),
          ...countsLine('errors', errors).map((line) => `  ${line}`),
          ...countsLine('closed by server', round.closedByServer).map((line) => `  ${line}`),
        );
        await sleep(500);
      }
      return { figures, lines };
    } finally {
      await pool.close();
    }
  },
};

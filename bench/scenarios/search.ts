/**
 * `search`: the history scenario's database (1M messages over 10,000 users, 1,000 groups of 50,
 * 10 dialog partners each), its messages written from a skewed vocabulary (lib/vocabulary.ts),
 * then rounds at a fixed concurrency of `listLastMessage` (the yardstick), `searchMessages`
 * across all of a user's conversations and within one of its groups (particular words), and
 * across all for the most common words (many matches each): requests/s, latency, and
 * the server's and PostgreSQL's CPU per request. Then each search again at a fixed offered rate
 * of half what it sustained, for its latency under load.
 */
import type { SearchConn, SearchInfo, SearchKind, SearchResult, SearchRound, SearchSetup } from '../agents/search.js';
import { forkAgents, type AgentPool } from '../lib/agents.js';
import { sleep } from '../lib/clock.js';
import { mergeHistograms, summarize } from '../lib/histogram.js';
import { pickTiming, type Cli } from '../lib/options.js';
import { nodeOf, splitByAgent } from '../lib/plan.js';
import { countsLine, formatCount, formatLatency, formatLoad, round1, round2, roundLoad, type LoadFigures } from '../lib/report.js';
import { measureRound, mergeCounts, ROUND_SLACK_MS, sum, type RoundTiming } from '../lib/round.js';
import type { IdRange } from '../lib/seed.js';
import { describeSizes, pickSizes, seedConversations, type ConversationSizes } from '../lib/conversations.js';
import { queries, sqlContent } from '../lib/vocabulary.js';
import { explainSearch } from '../lib/explain.js';
import type postgres from 'postgres';
import type { Scenario } from './types.js';

const CLOSED: readonly SearchKind[] = ['listLastMessage', 'searchAll', 'searchGroup', 'searchAllCommon'];
const OPEN: readonly SearchKind[] = ['searchAll', 'searchGroup', 'searchAllCommon'];
const QUERIES = 1000;

export interface SearchParams extends ConversationSizes {
  explain: boolean;
  timing: RoundTiming;
}

const PRESETS = {
  quick: { users: 10_000, groups: 1000, groupSize: 50, partners: 10, messages: 1_000_000, concurrency: 50, limit: 20, explain: false, timing: { warmupSeconds: 1, durationSeconds: 6 } },
  full: { users: 10_000, groups: 1000, groupSize: 50, partners: 10, messages: 1_000_000, concurrency: 50, limit: 20, explain: false, timing: { warmupSeconds: 3, durationSeconds: 30 } },
  smoke: { users: 50, groups: 10, groupSize: 5, partners: 4, messages: 2000, concurrency: 4, limit: 20, explain: true, timing: { warmupSeconds: 0.3, durationSeconds: 1 } },
} satisfies Record<Cli['preset'], SearchParams>;

async function planConnections(sql: postgres.Sql, users: IdRange, concurrency: number, procs: number, nodes: number): Promise<SearchConn[]> {
  const ids = Array.from({ length: concurrency }, (_, index) => users.first + Math.floor((index * users.count) / concurrency));
  const groups = await sql<{ userId: number; groupIds: number[] }[]>`
    select user_id as "userId", array_agg(group_id order by group_id) as "groupIds"
    from group_members where user_id = any(${ids}::int[]) group by user_id`;
  return ids.map((userId, index) => ({
    userId,
    node: nodeOf(index, procs, nodes),
    groupIds: groups.find((row) => row.userId === userId)?.groupIds ?? [],
  }));
}

interface Figures {
  requestsPerSecond: number;
  offeredPerSecond: number;
  latency: ReturnType<typeof summarize>;
  rowsPerReply: number;
  /** CPU µs per request: the server process, PostgreSQL's backends. */
  serverMicrosPerRequest: number | null;
  databaseMicrosPerRequest: number | null;
  errors: Record<string, number>;
  closedByServer: Record<string, number>;
  load: LoadFigures;
}

const perRequest = (cores: number | null, rps: number): number | null => (cores === null || rps <= 0 ? null : Math.round((cores / rps) * 1e6));

export const searchScenario: Scenario<SearchParams> = {
  name: 'search',

  configure(cli) {
    const preset = PRESETS[cli.preset];
    return {
      ...pickSizes(cli, preset),
      explain: cli.explain || preset.explain,
      timing: pickTiming(cli, preset.timing),
    };
  },

  describe: describeSizes,

  budgetMs: (p) => 180_000 + p.messages / 5 + (CLOSED.length + OPEN.length) * ((p.timing.warmupSeconds + p.timing.durationSeconds) * 1000 + ROUND_SLACK_MS),

  async run({ env, procs, deadline }, params) {
    const { users, seedSeconds } = await seedConversations(env.sql, params, { content: sqlContent });

    const conns = await planConnections(env.sql, users, params.concurrency, procs, env.targets.length);
    const agents = Math.min(procs, conns.length);
    const parts = splitByAgent(conns, agents);
    const asked = queries(QUERIES, { common: false });
    const common = queries(QUERIES, { common: true });
    const pool: AgentPool<SearchSetup, SearchInfo, SearchRound, SearchResult, never> = forkAgents('search', agents, deadline);
    try {
      await pool.setup(parts.map((part) => ({ targets: [...env.targets], secret: env.secret, conns: part, openConcurrency: 64, queries: asked, commonQueries: common })), 60_000);
      const figures: Record<string, unknown> = { seedSeconds: round1(seedSeconds) };
      const lines = [`seeded in ${round1(seedSeconds)} s`];
      const probe = conns.find((conn) => conn.groupIds.length > 0);
      if (params.explain && probe !== undefined) {
        const query = common[0] ?? 'ka';
        const plans = await explainSearch(env.databaseUrl, { me: probe.userId, groupId: probe.groupIds[0] ?? 0, query, limit: params.limit });
        figures['explain'] = { query, ...plans };
        for (const [kind, plan] of Object.entries(plans)) lines.push(`EXPLAIN (ANALYZE, BUFFERS) ${kind} "${query}" (user ${probe.userId}):`, ...plan.split('\n').map((line) => `  ${line}`));
      }

      const measure = async (kind: SearchKind, rate?: number): Promise<Figures> => {
        const rounds = parts.map((): SearchRound => ({ kind, limit: params.limit, ...(rate === undefined ? {} : { rate: rate / parts.length }) }));
        const { results, load } = await measureRound(pool, env, rounds, params.timing);
        const data = results.map((result) => result.data);
        const seconds = sum(data, (item) => item.windowSeconds) / Math.max(1, data.length);
        const replies = sum(data, (item) => item.replies);
        const rps = replies / seconds;
        await sleep(500);
        return {
          requestsPerSecond: Math.round(rps),
          offeredPerSecond: Math.round(sum(data, (item) => item.sent) / seconds),
          latency: summarize(mergeHistograms(data.map((item) => item.latency))),
          rowsPerReply: replies > 0 ? round2(sum(data, (item) => item.rows) / replies) : 0,
          serverMicrosPerRequest: perRequest(load.serverCores, rps),
          databaseMicrosPerRequest: perRequest(load.databaseCores, rps),
          errors: mergeCounts(data.map((item) => item.errors)),
          closedByServer: mergeCounts(data.map((item) => item.closedByServer)),
          load,
        };
      };
      const report = (title: string, f: Figures): void => {
        figures[title] = { ...f, load: roundLoad(f.load) };
        lines.push(
          `${title}:`,
          `  requests/s       ${formatCount(f.requestsPerSecond)}${f.offeredPerSecond !== f.requestsPerSecond ? ` (offered ${formatCount(f.offeredPerSecond)})` : ''}  (${f.rowsPerReply} rows per reply)`,
          `  latency          ${formatLatency(f.latency)}`,
          `  CPU per request  server ${f.serverMicrosPerRequest ?? 'n/a'} µs, PostgreSQL ${f.databaseMicrosPerRequest ?? 'n/a'} µs`,
          ...formatLoad(f.load).map((line) => `  ${line}`),
          ...countsLine('errors', f.errors).map((line) => `  ${line}`),
          ...countsLine('closed by server', f.closedByServer).map((line) => `  ${line}`),
        );
      };

      const sustained = new Map<SearchKind, Figures>();
      for (const kind of CLOSED) {
        const f = await measure(kind);
        sustained.set(kind, f);
        report(kind, f);
      }
      const yardstick = sustained.get('listLastMessage');
      const cpu = (f: Figures | undefined): number | null =>
        f?.serverMicrosPerRequest == null || f.databaseMicrosPerRequest == null ? null : f.serverMicrosPerRequest + f.databaseMicrosPerRequest;
      for (const kind of OPEN) {
        const ratio = cpu(yardstick) ? round2((cpu(sustained.get(kind)) ?? 0) / cpu(yardstick)!) : null;
        figures[`${kind}CpuVsListLastMessage`] = ratio;
        lines.push(`${kind}: server + PostgreSQL CPU per request ${ratio ?? 'n/a'} × listLastMessage's`);
        const rate = Math.max(1, Math.round((sustained.get(kind)?.requestsPerSecond ?? 0) / 2));
        report(`${kind} at ${rate}/s`, await measure(kind, rate));
      }
      return { figures, lines };
    } finally {
      await pool.close();
    }
  },
};

/**
 * EXPLAIN (ANALYZE, BUFFERS) of reads exactly as the server issues them: the server's own query
 * builders (src/db/*.ts) run once on a session whose `debug` hook captures the statement text and
 * its parameters, which are then prepared on the same database and explained as the generic plan,
 * the one the server's prepared statements run on (the batched reads are built to stay on it;
 * test/explain.test.ts checks that). No copy of the SQL lives here, so the plans cannot drift from
 * the code.
 */
import postgres from 'postgres';
import { createSigner } from '../../src/files/signing.js';
import { createMessages } from '../../src/db/messages.js';
import { createSearch, type SearchScope } from '../../src/db/search.js';
import type { Sql } from '../../src/db/client.js';

export interface HistoryProbe {
  me: number;
  peer: number;
  groupId: number;
  limit: number;
}

export type HistoryPlans = Record<'listLastMessage' | 'getlatestMessageDialog' | 'getlatestMessageGroup', string>;

/** Each named call's last statement, explained; `calls` gets the server's Sql to build them on. */
async function explainCalls<K extends string>(databaseUrl: string, calls: (sql: Sql) => Record<K, () => Promise<unknown>>): Promise<Record<K, string>> {
  interface Captured { text: string; parameters: unknown[] }
  const seen: Captured[] = [];
  const client = postgres(databaseUrl, {
    max: 1,
    onnotice: () => undefined,
    debug: (_connection, text, parameters) => {
      if (!text.trimStart().toLowerCase().startsWith('explain')) seen.push({ text, parameters: [...parameters] });
    },
  });
  // A jsonb parameter (the batched reads' items) is captured as the value postgres.js serializes.
  const literal = (value: unknown): string =>
    `'${(typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)).replace(/'/g, "''")}'`;
  const explain = async (issue: () => Promise<unknown>): Promise<string> => {
    seen.length = 0;
    await issue(); // also warms the cache, as a running server's would be
    const query = seen[seen.length - 1];
    if (query === undefined) throw new Error('the query builder issued no statement');
    const reserved = await client.reserve();
    try {
      await reserved.unsafe(`prepare relay_explain as ${query.text}`);
      await reserved.unsafe('set plan_cache_mode = force_generic_plan');
      const args = query.parameters.map(literal).join(', ');
      const rows = await reserved.unsafe(`explain (analyze, buffers) execute relay_explain${args === '' ? '' : `(${args})`}`);
      await reserved.unsafe('deallocate relay_explain');
      await reserved.unsafe('reset plan_cache_mode');
      return rows.map((row) => String(row['QUERY PLAN'])).join('\n');
    } finally {
      reserved.release();
    }
  };
  try {
    const out = {} as Record<K, string>;
    for (const [name, issue] of Object.entries(calls(client as unknown as Sql)) as [K, () => Promise<unknown>][]) out[name] = await explain(issue);
    return out;
  } finally {
    await client.end({ timeout: 5 });
  }
}

export function explainHistory(databaseUrl: string, probe: HistoryProbe): Promise<HistoryPlans> {
  const page = { limit: probe.limit, offset: 0 };
  return explainCalls(databaseUrl, (sql) => {
    // Any key: the plans do not depend on the signatures the rows carry.
    const messages = createMessages(sql, createSigner('explain-'.repeat(5), 3600));
    return {
      listLastMessage: () => messages.chatList(probe.me, probe.limit, 0),
      getlatestMessageDialog: () => messages.dialogHistory(probe.me, probe.peer, page),
      getlatestMessageGroup: () => messages.groupHistory(probe.me, probe.groupId, page),
    };
  });
}

export interface SearchProbe { me: number; groupId: number; query: string; limit: number }

/** searchMessages across all of the user's conversations, and within one of its groups. */
export function explainSearch(databaseUrl: string, probe: SearchProbe): Promise<Record<'searchAll' | 'searchGroup', string>> {
  return explainCalls(databaseUrl, (sql) => {
    const search = createSearch(sql, createSigner('explain-'.repeat(5), 3600));
    const run = (scope: SearchScope) => () => search.searchMessages({ me: probe.me, query: probe.query, scope, limit: probe.limit });
    return { searchAll: run({ kind: 'all' }), searchGroup: run({ kind: 'group', groupId: probe.groupId }) };
  });
}

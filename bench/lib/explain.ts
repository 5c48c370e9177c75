/**
 * EXPLAIN (ANALYZE, BUFFERS) of the three history reads exactly as the server issues them: the
 * server's own query builders (src/db/messages.ts) run once on a session whose `debug` hook
 * captures the statement text and its parameters, which are then prepared on the same database
 * and explained as the generic plan, the one the server's prepared statements run on (the batched
 * reads are built to stay on it; test/explain.test.ts checks that). No copy of the SQL lives
 * here, so the plans cannot drift from the code.
 */
import postgres from 'postgres';
import { createSigner } from '../../src/files/signing.js';
import { createMessages } from '../../src/db/messages.js';
import type { Sql } from '../../src/db/client.js';

export interface HistoryProbe {
  me: number;
  peer: number;
  groupId: number;
  limit: number;
}

export type HistoryPlans = Record<'listLastMessage' | 'getlatestMessageDialog' | 'getlatestMessageGroup', string>;

export async function explainHistory(databaseUrl: string, probe: HistoryProbe): Promise<HistoryPlans> {
  interface Captured { text: string; parameters: unknown[] }
  const seen: Captured[] = [];
  const client = postgres(databaseUrl, {
    max: 1,
    onnotice: () => undefined,
    debug: (_connection, text, parameters) => {
      if (!text.trimStart().toLowerCase().startsWith('explain')) seen.push({ text, parameters: [...parameters] });
    },
  });
  const messages = createMessages(client as unknown as Sql, createSigner('explain-'.repeat(5), 3600));
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
    const page = { limit: probe.limit, offset: 0 };
    return {
      listLastMessage: await explain(() => messages.chatList(probe.me, probe.limit, 0)),
      getlatestMessageDialog: await explain(() => messages.dialogHistory(probe.me, probe.peer, page)),
      getlatestMessageGroup: await explain(() => messages.groupHistory(probe.me, probe.groupId, page)),
    };
  } finally {
    await client.end({ timeout: 5 });
  }
}

/**
 * The database `history` and `search` both read: U users on a ring, G groups of K members, D
 * dialog partners each, N messages over them (lib/seed.ts). Its sizes, taken from a preset and
 * the command line, and its seeding, in one place.
 */
import type postgres from 'postgres';
import { pickCount, type Cli } from './options.js';
import { formatCount } from './report.js';
import { analyze, seedDialogs, seedGroups, seedMessages, seedUsers, type IdRange } from './seed.js';

export interface ConversationSizes {
  users: number;
  groups: number;
  groupSize: number;
  /** Dialog partners per user (even: u ± 1 .. u ± partners/2). */
  partners: number;
  messages: number;
  concurrency: number;
  limit: number;
}

/** The preset's sizes, each overridden by its command-line option. */
export function pickSizes(cli: Cli, preset: ConversationSizes): ConversationSizes {
  return {
    users: pickCount(cli, 'users', preset.users),
    groups: pickCount(cli, 'groups', preset.groups),
    groupSize: pickCount(cli, 'group-size', preset.groupSize),
    partners: pickCount(cli, 'partners', preset.partners),
    messages: pickCount(cli, 'messages', preset.messages),
    concurrency: pickCount(cli, 'concurrency', preset.concurrency),
    limit: pickCount(cli, 'limit', preset.limit),
  };
}

/**
 * Seeds users, groups, dialogs and messages (`content`: see seedMessages), then whatever
 * `beforeAnalyze` adds, then VACUUM ANALYZE.
 */
export async function seedConversations(
  sql: postgres.Sql, sizes: ConversationSizes,
  opts: { content?: (n: string) => string; beforeAnalyze?: ((sql: postgres.Sql) => Promise<unknown>) | undefined } = {},
): Promise<{ users: IdRange; seedSeconds: number }> {
  if (sizes.groups * sizes.groupSize < sizes.users) throw new Error('groups × group size must cover every user (each user in at least one group)');
  if (sizes.partners >= sizes.users) throw new Error('--partners must be below --users');
  const started = performance.now();
  const users = await seedUsers(sql, sizes.users);
  const groups = await seedGroups(sql, users, sizes.groups, sizes.groupSize);
  const dialogs = await seedDialogs(sql, users, Math.max(1, Math.floor(sizes.partners / 2)));
  await seedMessages(sql, groups, dialogs, sizes.messages, opts.content);
  await opts.beforeAnalyze?.(sql);
  await analyze(sql);
  return { users, seedSeconds: (performance.now() - started) / 1000 };
}

export function describeSizes(p: ConversationSizes): string {
  return `${formatCount(p.messages)} messages, ${formatCount(p.users)} users, ${formatCount(p.groups)} groups of ${p.groupSize}, ${p.partners} partners each; concurrency ${p.concurrency}, limit ${p.limit}`;
}

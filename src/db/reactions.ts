import type { Sql } from './client.js';
import { createBatcher } from './batch.js';
import { retryRolledBack } from './retry.js';
import { reactionColumns, reactionsJson } from './messageRows.js';
import type { Reaction } from '../../client/src/wire.js';

// Element type oids for sql.array.
const INT4 = 23;
const INT8 = 20;
const TEXT = 25;

/** The message a reaction is on, as its replies and pushes name it, and the reactions after the request. */
export interface ReactionResult {
  messageId: number; seq: number; senderId: number; receiverId: number | null; groupId: number | null;
  /** As the caller sees them (`me`: the caller holds it). */
  reactions: Reaction[];
  /** Holders of the emoji asked about, after the request. */
  count: number;
  actorName: string;
}

/**
 * `changed`: stored now (push it); `unchanged`: the caller already held it (add) or did not (remove):
 * answer the state, push nothing; `full`: a 21st distinct emoji (CONFLICT); `not-found`: unknown,
 * deleted, or outside the caller's conversations.
 */
export type ReactionOutcome =
  | { kind: 'changed' | 'unchanged'; result: ReactionResult }
  | { kind: 'full' }
  | { kind: 'not-found' };

export interface ReactionChangeItem { userId: number; messageId: number; emoji: string; op: 'add' | 'remove' }

interface ReactionRow extends ReactionResult { ord: number; visible: boolean; changed: boolean; held: boolean }

/**
 * A batch of reactions, one statement and one commit (they come as often as sends, and a commit
 * each cost the database four times what the sends of the fan-out bench did). At most one item
 * per message (reactionWaves): a statement updates a row once. Per item: the caller's place in the
 * conversation (a member of its group, a side of its dialog), then the new list computed from the
 * row's latest version (relay_reaction_add/remove, 007: an update that waited for another
 * reaction on the same message re-reads it, so none is lost), which is the list itself when
 * nothing changes: the WHERE then makes it no update. The rows are locked sorted by id first, as
 * the send batches lock theirs, so two batches never wait on each other in a cycle.
 */
export const reactionBatchStatement = (sql: Sql, items: readonly ReactionChangeItem[]) => sql<ReactionRow[]>`
  with v as (
    select * from unnest(
      ${sql.array(items.map((i) => i.userId), INT4)}::int[],
      ${sql.array(items.map((i) => i.messageId), INT8)}::bigint[],
      ${sql.array(items.map((i) => i.emoji), TEXT)}::text[],
      ${sql.array(items.map((i) => i.op === 'add'), 16)}::bool[]
    ) with ordinality as v(user_id, message_id, emoji, adding, ord)
  ), t as materialized (
    select v.ord, v.user_id, v.emoji, v.adding, m.id, m.seq, m.sender_id, m.receiver_id, m.group_id, m.deleted_at,
           m.reactions, m.reactions_view, m.reactors
    from v
    join messages m on m.id = v.message_id
    left join group_members gm on gm.group_id = m.group_id and gm.user_id = v.user_id
    where gm.user_id is not null or (m.receiver_id is not null and v.user_id in (m.sender_id, m.receiver_id))
  ), locked as materialized (
    select m.id from messages m
    where m.id in (select id from t where deleted_at is null)
    order by m.id
    for no key update
  ), upd as (
    update messages m set ${reactionColumns(sql, sql`case when t.adding then relay_reaction_add(m.reactions, t.emoji, t.user_id)
                                                          else relay_reaction_remove(m.reactions, t.emoji, t.user_id) end`)}
    from t join locked l on l.id = t.id
    where m.id = t.id and m.deleted_at is null
      and (case when t.adding then relay_reaction_add(m.reactions, t.emoji, t.user_id)
                else relay_reaction_remove(m.reactions, t.emoji, t.user_id) end) is distinct from m.reactions
    returning m.id, m.reactions, m.reactions_view, m.reactors
  ), now_ as (
    select t.ord, t.user_id, t.emoji, t.id, t.seq, t.sender_id, t.receiver_id, t.group_id, t.deleted_at, u.id is not null as changed,
           case when u.id is not null then u.reactions else t.reactions end as reactions,
           case when u.id is not null then u.reactions_view else t.reactions_view end as reactions_view,
           case when u.id is not null then u.reactors else t.reactors end as reactors
    from t left join upd u on u.id = t.id
  )
  select v.ord::int as ord, n.id is not null and n.deleted_at is null as visible, coalesce(n.changed, false) as changed,
         n.id as "messageId", n.seq, n.sender_id as "senderId", n.receiver_id as "receiverId", n.group_id as "groupId",
         ${reactionsJson(sql, sql`v.user_id`, sql`n`)} as reactions,
         coalesce((select jsonb_array_length(x->1) from jsonb_array_elements(n.reactions) as x where x->>0 = v.emoji), 0) as count,
         exists (select 1 from jsonb_array_elements(n.reactions) as x where x->>0 = v.emoji and x->1 @> to_jsonb(v.user_id)) as held,
         (select first_name from users where id = v.user_id) as "actorName"
  from v left join now_ n on n.ord = v.ord
  order by v.ord`;

/** The batch split so that no statement holds two items of one message (each after the one before it). */
export function reactionWaves<T extends { messageId: number }>(items: readonly T[]): T[][] {
  const waves: T[][] = [];
  const seen: Map<number, number>[] = [];
  for (const item of items) {
    let w = 0;
    while ((seen[w]?.get(item.messageId) ?? 0) > 0) w++;
    (waves[w] ??= []).push(item);
    (seen[w] ??= new Map()).set(item.messageId, 1);
  }
  return waves;
}

function outcome(op: 'add' | 'remove', row: ReactionRow | undefined): ReactionOutcome {
  if (!row?.visible) return { kind: 'not-found' };
  const { ord: _o, visible: _v, changed, held, ...result } = row;
  // An add that changed nothing and left the caller without the emoji hit the 20-emoji cap.
  if (op === 'add' && !changed && !held) return { kind: 'full' };
  return { kind: changed ? 'changed' : 'unchanged', result };
}

export function createReactions(sql: Sql) {
  const write = async (items: ReactionChangeItem[]): Promise<ReactionOutcome[]> => {
    const out = new Map<ReactionChangeItem, ReactionOutcome>();
    for (const wave of reactionWaves(items)) {
      const rows = await retryRolledBack(() => reactionBatchStatement(sql, wave));
      wave.forEach((item, i) => out.set(item, outcome(item.op, rows[i])));
    }
    return items.map((item) => out.get(item) ?? { kind: 'not-found' });
  };
  const change = createBatcher(write, { maxBatch: 500, depth: 2 });
  return {
    addReaction: (userId: number, messageId: number, emoji: string) => change({ userId, messageId, emoji, op: 'add' }),
    removeReaction: (userId: number, messageId: number, emoji: string) => change({ userId, messageId, emoji, op: 'remove' }),
  };
}

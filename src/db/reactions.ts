import type { Sql } from './client.js';
import { target } from './edits.js';
import { reactionsJson } from './messageRows.js';
import type { Reaction } from '../../client/src/wire.js';

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

interface ReactionRow extends ReactionResult { visible: boolean; changed: boolean; held: boolean }

/**
 * Add or remove, one statement: the caller's place in the conversation, then the new list computed
 * from the row's latest version (relay_reaction_add/remove, 007; an update that waited for another
 * reaction on the same message re-reads it, so none is lost). The functions return the list itself
 * when nothing changes, which the WHERE turns into "no update".
 */
export const reactionStatement = (sql: Sql, me: number, messageId: number, emoji: string, op: 'add' | 'remove') => {
  const next = op === 'add'
    ? sql`relay_reaction_add(m.reactions, ${emoji}::text, ${me}::int)`
    : sql`relay_reaction_remove(m.reactions, ${emoji}::text, ${me}::int)`;
  return sql<ReactionRow[]>`
    with t as (${target(sql, me, messageId)}), upd as (
      update messages m set reactions = ${next}
      from t
      where m.id = t.id and m.deleted_at is null and ${next} is distinct from m.reactions
      returning m.reactions
    ), now_ as (
      select t.*, exists (select 1 from upd) as changed,
             case when exists (select 1 from upd) then (select reactions from upd) else t.reactions end as state
      from t
    )
    select n.deleted_at is null as visible, n.changed,
           n.id as "messageId", n.seq, n.sender_id as "senderId", n.receiver_id as "receiverId", n.group_id as "groupId",
           ${reactionsJson(sql, sql`${me}::int`, sql`n.state`)} as reactions,
           coalesce((select jsonb_array_length(x->1) from jsonb_array_elements(n.state) as x where x->>0 = ${emoji}::text), 0) as count,
           exists (select 1 from jsonb_array_elements(n.state) as x where x->>0 = ${emoji}::text and x->1 @> to_jsonb(${me}::int)) as held,
           (select first_name from users where id = ${me}) as "actorName"
    from now_ n`;
};

export function createReactions(sql: Sql) {
  const run = async (me: number, messageId: number, emoji: string, op: 'add' | 'remove'): Promise<ReactionOutcome> => {
    const [row] = await reactionStatement(sql, me, messageId, emoji, op);
    if (!row?.visible) return { kind: 'not-found' };
    const { visible: _v, changed, held, ...result } = row;
    // An add that changed nothing and left the caller without the emoji hit the 20-emoji cap.
    if (op === 'add' && !changed && !held) return { kind: 'full' };
    return { kind: changed ? 'changed' : 'unchanged', result };
  };
  return {
    addReaction: (me: number, messageId: number, emoji: string) => run(me, messageId, emoji, 'add'),
    removeReaction: (me: number, messageId: number, emoji: string) => run(me, messageId, emoji, 'remove'),
  };
}

import type { Sql } from './client.js';
import { attachmentsJson, isoText, mentionsJson, reactionsJson, replyToJson, urlSigning, type UrlSigning } from './messageRows.js';
import type { FileSigner } from '../files/signing.js';

/** What to search: every conversation of the caller, one group, or one dialog. */
export type SearchScope = { kind: 'all' } | { kind: 'group'; groupId: number } | { kind: 'dialog'; peerId: number };

export interface SearchRequest { me: number; query: string; scope: SearchScope; limit: number; beforeId?: number | undefined }

/**
 * A match as the database writes it: `data`, the reply row as JSON text (every field of a
 * searchMessages row but `highlights`, in the wire's order; its v1.2 parts as every message row
 * has them, messageRows.ts), and its `content` again, for the highlights the caller adds. As for
 * the history reads, no row objects and no Date per timestamp on the server's side.
 */
export interface SearchRow { data: string; content: string }

/** null: the scope is a group the caller is not a member of (FORBIDDEN). */
export type SearchResult = SearchRow[] | null;

/**
 * The conversations searched, as their lexeme prefixes (relay_search_conversation in
 * 008_search_blocking.sql): for all, the groups the caller is in now and its dialogs. Empty (no
 * conversation, or not a member) matches nothing.
 */
function conversations(sql: Sql, me: number, scope: SearchScope) {
  if (scope.kind === 'group') {
    return sql`array(select relay_search_conversation(gm.group_id, null, null) from group_members gm
                     where gm.group_id = ${scope.groupId} and gm.user_id = ${me})`;
  }
  if (scope.kind === 'dialog') {
    return sql`array[relay_search_conversation(null, ${me}::int, ${scope.peerId}::int)]`;
  }
  return sql`array(
      select relay_search_conversation(group_id, null, null) from group_members where user_id = ${me}
      union all
      select relay_search_conversation(null, user_lo, user_hi) from dialogs where user_lo = ${me}
      union all
      select relay_search_conversation(null, user_lo, user_hi) from dialogs where user_hi = ${me} and user_lo <> ${me}
    )`;
}

/**
 * One statement: each query word as a prefix within each of the caller's conversations, all
 * words required, matched in the GIN index on messages.search; then the newest `limit` of the
 * matches with their names.
 *
 * The tsquery is computed in the statement (an InitPlan), so the planner cannot read it and costs
 * the match at its default selectivity, and `hits` is materialized with no ORDER BY or LIMIT
 * inside: together they keep it on the GIN index. With ORDER BY id DESC LIMIT n on the match
 * itself, the planner may walk messages_pkey backwards and test every message against the query,
 * which for a rare word reads the whole table.
 */
export function searchStatement(sql: Sql, r: SearchRequest, k: UrlSigning) {
  const before = r.beforeId === undefined ? sql`` : sql`and m.id < ${r.beforeId}`;
  return sql<SearchRow[]>`
    with q as materialized (
      select relay_search_query(${r.query}, ${conversations(sql, r.me, r.scope)}) as q
    ), hits as materialized (
      select m.id from messages m
      where m.search @@ (select q from q) and m.deleted_at is null ${before}
    ), page as (
      select id from hits order by id desc limit ${r.limit}
    )
    select row_to_json(h)::text as data, h.content
    from (
      select m.id, m.seq, m.sender_id as "senderId", s.first_name as "senderName",
             m.receiver_id as "receiverId", rc.first_name as "receiverName",
             m.group_id as "groupId", g.name as "groupName", m.content,
             ${isoText(sql, sql`m.created_at`)} as "createdAt", ${isoText(sql, sql`m.edited_at`)} as "editedAt",
             ${replyToJson(sql)} as "replyTo", ${mentionsJson(sql)} as mentions, ${reactionsJson(sql, sql`${r.me}::int`)} as reactions,
             ${attachmentsJson(sql, k)} as attachments
      from page p
      join messages m on m.id = p.id
      join users s on s.id = m.sender_id
      left join users rc on rc.id = m.receiver_id
      left join groups g on g.id = m.group_id
    ) h
    order by h.id desc`;
}

/** `signer`: result rows carry their files' URLs, signed in the statement, as every message row does. */
export function createSearch(sql: Sql, signer: FileSigner) {
  return {
    async searchMessages(r: SearchRequest): Promise<SearchResult> {
      const rows = await searchStatement(sql, r, urlSigning(signer));
      // A non-member's search of a group finds nothing (its conversation list is empty); only then is
      // membership read, to answer FORBIDDEN rather than "no matches". A match proves membership.
      if (rows.length === 0 && r.scope.kind === 'group') {
        const [member] = await sql`select 1 from group_members where group_id = ${r.scope.groupId} and user_id = ${r.me}`;
        if (!member) return null;
      }
      return rows;
    },
  };
}

export type Search = ReturnType<typeof createSearch>;

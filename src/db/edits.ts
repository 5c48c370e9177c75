import type { Sql } from './client.js';
import { attachmentsJson, mentionsJson, replyToJson, urlSigning, type UrlSigning } from './messageRows.js';
import type { FileSigner } from '../files/signing.js';
import { retryRolledBack } from './retry.js';
import type { FileInfo, ReplyTo } from '../../client/src/wire.js';

/** A message as the edit and delete replies and pushes show it. */
export interface ChangedMessage {
  id: number; seq: number; senderId: number; receiverId: number | null; groupId: number | null;
  content: string; createdAt: Date; editedAt: Date | null; deletedAt: Date | null;
  /** v1.2 (edits show them; a delete reads them to clear what the message held). */
  replyTo: ReplyTo | null; mentions: number[];
  /** The edit's: the message's files (editing keeps them); a delete detaches them. */
  attachments?: FileInfo[];
}

/**
 * `not-found`: unknown, deleted (edit), or in a conversation the caller is not (or no longer)
 * in; `forbidden`: the caller is in the conversation but may not change this message.
 * A delete of a deleted message is `unchanged` (answered the same, pushed nothing).
 */
export type ChangeOutcome =
  | { kind: 'changed'; message: ChangedMessage; actorName: string }
  | { kind: 'unchanged'; message: ChangedMessage; actorName: string }
  | { kind: 'not-found' }
  | { kind: 'forbidden' };

interface ChangeRow extends ChangedMessage { visible: boolean; allowed: boolean; changed: boolean; actorName: string }

function outcome(row: ChangeRow | undefined): ChangeOutcome {
  if (!row?.visible) return { kind: 'not-found' };
  if (!row.allowed) return { kind: 'forbidden' };
  const { visible: _v, allowed: _a, changed, actorName, ...message } = row;
  return changed ? { kind: 'changed', message, actorName } : { kind: 'unchanged', message, actorName };
}

/**
 * `t`: the message if the caller is in its conversation (a member of its group, a side of its
 * dialog), with the caller's group role. Every statement that names a message by id starts here
 * (edits, reactions, pins).
 */
export const target = (sql: Sql, me: number, messageId: number) => sql`
  select m.id, m.seq, m.sender_id, m.receiver_id, m.group_id, m.created_at, m.edited_at, m.deleted_at, gm.role,
         m.reply_to_id, m.mentions, m.reactions, m.pinned_at, m.pinned_by
  from messages m
  left join group_members gm on gm.group_id = m.group_id and gm.user_id = ${me}
  where m.id = ${messageId}
  and (gm.user_id is not null or (m.receiver_id is not null and ${me}::int in (m.sender_id, m.receiver_id)))`;

/**
 * A conversation row keeps a copy of its newest message for the chat list (006): when the changed
 * message (`upd`) is that one, the copy changes in the same statement. Its row is found by key and
 * is only the newest while last_message_id says so: a send that got there first (its lock is waited
 * for, then the condition read again) has replaced the copy with its own message.
 */
const changeCopy = (sql: Sql) => sql`
  group_copy as (
    update groups g set last_content = upd.content, last_updated_at = upd.updated_at, last_deleted_at = upd.deleted_at
    from upd
    where g.id = upd.group_id and g.last_message_id = upd.id
  ), dialog_copy as (
    update dialogs d set last_content = upd.content, last_updated_at = upd.updated_at, last_deleted_at = upd.deleted_at
    from upd
    where upd.receiver_id is not null and d.user_lo = least(upd.sender_id, upd.receiver_id)
      and d.user_hi = greatest(upd.sender_id, upd.receiver_id) and d.last_message_id = upd.id
  )`;

/** Edit (exported, like delete, for the query-plan checks). */
export const editStatement = (sql: Sql, me: number, messageId: number, content: string, k: UrlSigning) => sql<ChangeRow[]>`
  with t as (${target(sql, me, messageId)}), upd as (
    update messages m set content = ${content}, edited_at = now(), updated_at = now()
    from t
    where m.id = t.id and m.sender_id = ${me} and m.deleted_at is null
    returning m.id, m.group_id, m.sender_id, m.receiver_id, m.content, m.edited_at, m.updated_at, m.deleted_at
  ), ${changeCopy(sql)}
  select t.deleted_at is null as visible, t.sender_id = ${me} as allowed, exists (select 1 from upd) as changed,
         t.id, t.seq, t.sender_id as "senderId", t.receiver_id as "receiverId", t.group_id as "groupId",
         coalesce(upd.content, '') as content, t.created_at as "createdAt", upd.edited_at as "editedAt",
         null::timestamptz as "deletedAt", (select first_name from users where id = ${me}) as "actorName",
         ${replyToJson(sql, sql`t.reply_to_id`)} as "replyTo", ${mentionsJson(sql, sql`t.mentions`)} as mentions,
         ${attachmentsJson(sql, k, sql`t.id`)} as attachments
  from t left join upd on true`;

/**
 * Delete: the permission (sender, or a group's owner or admin) is read in the statement that deletes.
 * The message loses its reactions and its pin with its content (v1.2), and no longer counts among
 * the unread mentions of the members it mentioned (their rows by primary key).
 */
export const deleteStatement = (sql: Sql, me: number, messageId: number) => sql<ChangeRow[]>`
  with t as (${target(sql, me, messageId)}), allowed as (
    select t.id from t where t.sender_id = ${me} or t.role in ('owner', 'admin')
  ), upd as (
    update messages m set content = '', deleted_at = now(), updated_at = now(), reactions = null, reactions_view = null, reactors = null, pinned_at = null, pinned_by = null
    from allowed a
    where m.id = a.id and m.deleted_at is null
    returning m.id, m.seq, m.group_id, m.sender_id, m.receiver_id, m.content, m.updated_at, m.deleted_at, m.mentions
  ), detach as (
    -- A deleted message loses its files (PROTOCOL.md "Files"): no longer readable through it,
    -- orphans for the sweeper unless another message carries them.
    delete from message_attachments where message_id in (select id from upd)
  ), ${changeCopy(sql)}, unmention as (
    update group_members gm set mention_seqs = array_remove(gm.mention_seqs, upd.seq)
    from upd
    where upd.mentions is not null and gm.group_id = upd.group_id and gm.user_id = any (upd.mentions)
      and gm.mention_seqs is not null
  )
  select true as visible, exists (select 1 from allowed) as allowed, exists (select 1 from upd) as changed,
         t.id, t.seq, t.sender_id as "senderId", t.receiver_id as "receiverId", t.group_id as "groupId",
         '' as content, t.created_at as "createdAt", t.edited_at as "editedAt",
         coalesce(upd.deleted_at, t.deleted_at) as "deletedAt", (select first_name from users where id = ${me}) as "actorName",
         null::json as "replyTo", '[]'::json as mentions
  from t left join upd on true`;

/**
 * Edit and delete, each one statement: the caller's place in the conversation (membership and
 * role for a group, a side of the dialog), the permission and the change are read and made
 * together, so a role or membership change cannot slip in between check and write.
 */
export function createEdits(sql: Sql, signer: FileSigner) {
  return {
    /** Only the sender edits, and only a message that is not deleted. */
    async editMessage(me: number, messageId: number, content: string): Promise<ChangeOutcome> {
      const [row] = await editStatement(sql, me, messageId, content, urlSigning(signer));
      const result = outcome(row);
      // Deleted between the read and the update (a concurrent delete): it is gone.
      return result.kind === 'unchanged' ? { kind: 'not-found' } : result;
    },

    /**
     * The sender deletes; in a group its owner and admins delete any message (the role is read
     * in this statement). The content is erased from the row, not hidden.
     */
    async deleteMessage(me: number, messageId: number): Promise<ChangeOutcome> {
      // Retried on a deadlock: taking the deleted message out of its mentioned members' rows locks them
      // after the message, while a send locks them after the group row.
      const [row] = await retryRolledBack(() => deleteStatement(sql, me, messageId));
      return outcome(row);
    },
  };
}

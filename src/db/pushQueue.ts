import type { Sql } from './client.js';
import type { PushNotification } from '../../client/src/wire.js';
import { createBatcher } from './batch.js';

const INT8 = 20;

/** One delivery taken by a worker: its target (subscription, or null: the webhook) and what to send. */
export interface TakenDelivery {
  id: number;
  subscriptionId: number | null;
  userId: number;
  payload: PushNotification;
  urgent: boolean;
  attempts: number;
  createdAt: Date;
  messageCreatedAt: Date;
  endpoint: string | null;
  p256dh: string | null;
  auth: string | null;
}

export interface Expanded {
  /** Outbox rows (messages) taken. */
  taken: number;
  /** (message, recipient) pairs to notify (per conversation of the batch: its messages times its recipients). */
  eligible: number;
  /** Of those, described by a notification already waiting or by another message of the batch (folded). */
  folded: number;
}

export interface Claimed {
  /** Notifications made (each becomes one delivery per target). */
  notified: number;
  /** Dropped: the recipient read up to the message (or left the group, or blocked its sender) before it went. */
  read: number;
  deliveries: number;
}

/*
 * The notification pipeline's tables (010_push.sql), each step one statement that any node may
 * run at any time: rows are taken with `for update skip locked`, so nodes share the work and never
 * take the same row twice.
 *
 *   push_outbox  --expand-->  push_state (folding)  --claim-->  push_deliveries  --take-->  network
 *
 * Folding lives here, in SQL, rather than in a module of the worker: the state it folds must be
 * shared by every node (the 5 s window and "dropped if read" hold cluster-wide), and each step is
 * atomic with the rows it takes.
 */
export function createPushQueue(sql: Sql) {
  return {
    /**
     * Takes outbox rows and turns them into pending notifications of their recipients: the
     * conversation's members but the sender, with a push target (a subscription, or the webhook),
     * no open socket on any live node now, not blocking the sender, and no running mute unless a
     * message mentions them. A recipient already waiting for a notification about that
     * conversation keeps it (the messages fold into it, and a mention among them makes it urgent);
     * one sent a notification less than `foldMs` ago waits until the window is over.
     */
    async expand(limit: number, webhook: boolean, foldMs: number): Promise<Expanded> {
      const [row] = await expandStatement(sql, limit, webhook, foldMs);
      const r = row!;
      return { taken: r.taken, eligible: r.eligible, folded: Math.max(0, r.eligible - r.fresh) };
    },

    /**
     * Takes the notifications that are due and makes their deliveries: each describes its
     * conversation's newest message now, with the recipient's unread count. One whose recipient
     * has read up to its message meanwhile (or left the group, or blocks its sender) is dropped.
     * Dialogs, and notifications of which a message mentions the recipient, are urgent.
     */
    async claim(limit: number, webhook: boolean): Promise<Claimed> {
      const [row] = await claimStatement(sql, limit, webhook);
      return row!;
    },

    /**
     * Takes up to `limit` due deliveries and leases them for `leaseMs` (their next try is pushed
     * past it): a node that dies holding one leaves it to another node once the lease is over.
     */
    take(limit: number, leaseMs: number): Promise<TakenDelivery[]> {
      return sql<TakenDelivery[]>`
        with t as (
          select id from push_deliveries where next_at <= now() order by next_at limit ${limit} for update skip locked
        ), leased as (
          update push_deliveries d set next_at = now() + ${leaseMs}::int * interval '1 millisecond', attempts = d.attempts + 1
          from t where d.id = t.id
          returning d.id, d.subscription_id, d.user_id, d.payload, d.urgent, d.attempts, d.created_at, d.message_created_at
        )
        select l.id, l.subscription_id as "subscriptionId", l.user_id as "userId", l.payload, l.urgent, l.attempts,
               l.created_at as "createdAt", l.message_created_at as "messageCreatedAt", s.endpoint, s.p256dh, s.auth
        from leased l left join push_subscriptions s on s.id = l.subscription_id
        order by l.id`;
    },

    /** Delivered, or given up: gone from the queue (batched: one statement for the deliveries finished together). */
    finish: createBatcher(async (ids: number[]) => {
      await sql`delete from push_deliveries where id = any(${sql.array(ids, INT8)}::bigint[])`;
      return ids.map(() => undefined);
    }),

    async retryLater(id: number, delayMs: number): Promise<void> {
      await sql`update push_deliveries set next_at = now() + ${Math.ceil(delayMs)}::int * interval '1 millisecond' where id = ${id}`;
    },

    /** What waits: messages not yet expanded, notifications not yet due, deliveries not yet done. */
    async depth(): Promise<{ outbox: number; pending: number; deliveries: number }> {
      const [row] = await sql<{ outbox: number; pending: number; deliveries: number }[]>`
        select (select count(*) from push_outbox)::int as outbox,
               (select count(*) from push_state where pending_id is not null)::int as pending,
               (select count(*) from push_deliveries)::int as deliveries`;
      return row!;
    },
  };
}

/** The expand step as one statement (exported for EXPLAIN in the tests). */
export function expandStatement(sql: Sql, limit: number, webhook: boolean, foldMs: number) {
  return sql<{ taken: number; eligible: number; fresh: number }[]>`
    with taken as (
      delete from push_outbox o
      using (select message_id from push_outbox order by message_id limit ${limit} for update skip locked) t
      where o.message_id = t.message_id
      returning o.message_id
    ), msg as materialized (
      select m.id, m.sender_id, m.receiver_id, m.group_id, m.mentions from taken t join messages m on m.id = t.message_id
      where m.deleted_at is null
    ), conv as materialized (
      -- One row per conversation of the batch, not per message: a burst in a group costs its
      -- members once per sender of the burst, not once per message.
      select group_id, 0 as peer_id, null::int as receiver_id, max(id) as id, count(*)::int as n
      from msg where group_id is not null group by group_id
      union all
      select 0, sender_id, receiver_id, max(id), count(*)::int
      from msg where receiver_id is not null and receiver_id <> sender_id group by sender_id, receiver_id
    ), senders as materialized (
      select group_id, sender_id, max(id) as id from msg where group_id is not null group by group_id, sender_id
    ), told as (
      -- Per group and member, the newest message of the batch it is to be told about: one sent
      -- by someone else whom it does not block (a member who sent, or blocks the senders of,
      -- every one of them is left out). One probe of the blocks key per member and sender.
      select s.group_id, gm.user_id, max(s.id) as id
      from senders s join group_members gm on gm.group_id = s.group_id
      where gm.user_id <> s.sender_id
        and not exists (select 1 from blocks b where b.blocker_id = gm.user_id and b.blocked_id = s.sender_id)
      group by s.group_id, gm.user_id
    ), mentioned as materialized (
      -- Who the batch's messages mention, per group (a dialog message mentions no one), read off
      -- the batch's own rows: no other message is looked at. A mention by a sender the member
      -- blocks, or by the member itself, counts for nothing.
      select distinct m.group_id, u.user_id
      from msg m cross join unnest(m.mentions) as u(user_id)
      where m.group_id is not null and u.user_id <> m.sender_id
        and not exists (select 1 from blocks b where b.blocker_id = u.user_id and b.blocked_id = m.sender_id)
    ), rcpt as (
      select t.id, c.n, t.user_id, c.group_id, 0 as peer_id, x.user_id is not null as mentioned
      from conv c join told t on t.group_id = c.group_id
      left join mentioned x on x.group_id = t.group_id and x.user_id = t.user_id
      where c.group_id <> 0
      union all
      -- A dialog message across a block is never stored; the check covers a block made since.
      select c.id, c.n, c.receiver_id, 0, c.peer_id, false from conv c
      where c.group_id = 0
        and not exists (select 1 from blocks b where b.blocker_id = c.receiver_id and b.blocked_id = c.peer_id)
    ), eligible as (
      select r.* from rcpt r
      where (${webhook}::boolean or exists (select 1 from push_subscriptions s where s.user_id = r.user_id))
        and not exists (
          select 1 from push_sockets k join push_nodes n on n.node_id = k.node_id
          where k.user_id = r.user_id and n.alive_until > now())
        -- A mention is let through a mute: the member is told about the conversation, as of its
        -- newest message, like any notification (the protocol says a notification describes that).
        and (r.mentioned or not exists (
          select 1 from conversation_mutes cm
          where cm.user_id = r.user_id and cm.group_id = r.group_id and cm.peer_id = r.peer_id
            and (cm.muted_until is null or cm.muted_until > now())))
    ), up as (
      -- A recipient already waiting for a notification about the conversation keeps it (the
      -- message folds into it: the notification describes the newest message when it goes),
      -- only learning that a folded message mentions it: the mention must not be lost to the
      -- fold, so the notification that describes it goes urgent. Otherwise it waits until the
      -- fold window since its last one is over. Rows already waiting are written only when a
      -- mention is new to them, so a burst into a big group rewrites no state.
      insert into push_state as p (user_id, group_id, peer_id, pending_id, due_at, mentioned)
      select user_id, group_id, peer_id, id, now(), mentioned from eligible order by 1, 2, 3
      on conflict (user_id, group_id, peer_id) do update set
        pending_id = coalesce(p.pending_id, excluded.pending_id),
        due_at = case when p.pending_id is null then greatest(now(), p.sent_at + ${foldMs}::int * interval '1 millisecond') else p.due_at end,
        mentioned = (p.pending_id is not null and p.mentioned) or excluded.mentioned
      where (p.pending_id is null and excluded.pending_id > p.sent_id)
         or (p.pending_id is not null and excluded.mentioned and not p.mentioned)
      returning p.user_id, p.group_id, p.peer_id, p.pending_id
    )
    select (select count(*) from taken)::int as taken, (select coalesce(sum(n), 0) from eligible)::int as eligible,
           -- Made pending now (a waiting one that only learnt of a mention keeps its older pending_id).
           (select count(*) from up u join eligible e using (user_id, group_id, peer_id) where u.pending_id = e.id)::int as fresh`;
}

/** The claim step as one statement (exported for EXPLAIN in the tests). */
export function claimStatement(sql: Sql, limit: number, webhook: boolean) {
  return sql<Claimed[]>`
    with due as (
      select p.user_id, p.group_id, p.peer_id, p.pending_id, p.mentioned from push_state p
      where p.pending_id is not null and p.due_at <= now()
      order by p.due_at limit ${limit}
      for update skip locked
    ), conv as materialized (
      select d.*, coalesce(g.last_message_id, dl.last_message_id) as newest_id, coalesce(g.last_seq, dl.last_seq) as last_seq,
             g.last_sender_id as newest_group_sender,
             case when d.group_id <> 0 then gm.last_read_seq
                  when d.user_id < d.peer_id then dl.lo_last_read_seq else dl.hi_last_read_seq end as read_seq,
             (d.group_id = 0 or gm.user_id is not null) as member
      from due d
      left join groups g on d.group_id <> 0 and g.id = d.group_id
      left join group_members gm on d.group_id <> 0 and gm.group_id = d.group_id and gm.user_id = d.user_id
      left join dialogs dl on d.group_id = 0 and dl.user_lo = least(d.user_id, d.peer_id) and dl.user_hi = greatest(d.user_id, d.peer_id)
    ), described as materialized (
      -- The newest message, unless the recipient blocks its sender (read off the group row; a
      -- dialog across a block stores nothing): then the one that made the notification pending, which expand
      -- only takes from a sender the recipient does not block. Messages folded after that one
      -- are described by it (the unread count tells how many), later ones notify anew.
      select c.*, case when nb.blocker_id is null then c.newest_id else c.pending_id end as described_id
      from conv c
      left join blocks nb on nb.blocker_id = c.user_id and nb.blocked_id = c.newest_group_sender
    ), judged as materialized (
      -- Read up to the message it would describe: nothing to tell. Nor when the recipient has
      -- blocked that message's sender since it was expanded.
      select d.*, (not d.member or m.id is null or coalesce(d.read_seq, 0) >= m.seq
                   or exists (select 1 from blocks b where b.blocker_id = d.user_id and b.blocked_id = m.sender_id)) as dropped
      from described d left join messages m on m.id = d.described_id
    ), upd as (
      update push_state p set pending_id = null, mentioned = false,
        sent_id = case when j.dropped then p.sent_id else j.described_id end,
        sent_at = case when j.dropped then p.sent_at else now() end
      from judged j
      where p.user_id = j.user_id and p.group_id = j.group_id and p.peer_id = j.peer_id
    ), payloads as (
      select j.user_id, m.created_at,
             -- A mention among the folded messages (j.mentioned, kept by expand) or in the one
             -- described (which expand may not have seen yet): the notification is about it.
             (j.group_id = 0 or j.mentioned or coalesce(j.user_id = any(m.mentions), false)) as urgent, -- (mentions: null when none)
             jsonb_build_object('type', 'message', 'id', m.id, 'seq', m.seq, 'senderId', m.sender_id,
               'senderName', u.first_name, 'receiverId', m.receiver_id, 'groupId', m.group_id, 'groupName', g.name,
               -- A message of files only is previewed by its first file's name (one key probe of
               -- message_attachments, only for those).
               'preview', case when m.content = '' then coalesce((
                 select left(f.name, 100) from message_attachments a join files f on f.id = a.file_id
                 where a.message_id = m.id order by a.position limit 1), '') else left(m.content, 100) end,
               'unreadCount', greatest(j.last_seq - coalesce(j.read_seq, 0), 0)) as payload
      from judged j
      join messages m on m.id = j.described_id
      join users u on u.id = m.sender_id
      left join groups g on g.id = m.group_id
      where not j.dropped
    ), ins as (
      insert into push_deliveries (subscription_id, user_id, payload, urgent, message_created_at)
      select s.id, p.user_id, p.payload, p.urgent, p.created_at
      from payloads p join push_subscriptions s on s.user_id = p.user_id
      union all
      select null, p.user_id, p.payload, p.urgent, p.created_at from payloads p where ${webhook}::boolean
      returning 1
    )
    select (count(*) filter (where not dropped))::int as notified, (count(*) filter (where dropped))::int as read,
           (select count(*) from ins)::int as deliveries
    from judged`;
}

export type PushQueue = ReturnType<typeof createPushQueue>;

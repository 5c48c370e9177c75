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
  /** Dropped: the recipient read up to the message (or left the group) before it went. */
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
     * no open socket on any live node now, and no running mute. A recipient already waiting for a
     * notification about that conversation keeps it (the messages fold into it); one sent a
     * notification less than `foldMs` ago waits until the window is over.
     */
    async expand(limit: number, webhook: boolean, foldMs: number): Promise<Expanded> {
      const [row] = await sql<{ taken: number; eligible: number; fresh: number }[]>`
        with taken as (
          delete from push_outbox o
          using (select message_id from push_outbox order by message_id limit ${limit} for update skip locked) t
          where o.message_id = t.message_id
          returning o.message_id
        ), msg as materialized (
          select m.id, m.sender_id, m.receiver_id, m.group_id from taken t join messages m on m.id = t.message_id
          where m.deleted_at is null
        ), conv as materialized (
          -- One row per conversation of the batch, not per message: a burst in a group costs its
          -- members once. A member who sent every one of them is left out (sole_sender); one who
          -- sent the newest has read up to it, and claim drops it.
          select group_id, 0 as peer_id, null::int as receiver_id, max(id) as id, count(*)::int as n,
                 case when min(sender_id) = max(sender_id) then min(sender_id) end as sole_sender
          from msg where group_id is not null group by group_id
          union all
          select 0, sender_id, receiver_id, max(id), count(*)::int, sender_id
          from msg where receiver_id is not null and receiver_id <> sender_id group by sender_id, receiver_id
        ), rcpt as (
          select c.id, c.n, gm.user_id, c.group_id, 0 as peer_id, c.sole_sender
          from conv c join group_members gm on gm.group_id = c.group_id
          where c.group_id <> 0 and gm.user_id is distinct from c.sole_sender
          union all
          select c.id, c.n, c.receiver_id, 0, c.peer_id, c.sole_sender from conv c where c.group_id = 0
        ), eligible as (
          select r.* from rcpt r
          where (${webhook}::boolean or exists (select 1 from push_subscriptions s where s.user_id = r.user_id))
            and not exists (
              select 1 from push_sockets k join push_nodes n on n.node_id = k.node_id
              where k.user_id = r.user_id and n.alive_until > now())
            and not exists (
              select 1 from conversation_mutes cm
              where cm.user_id = r.user_id and cm.group_id = r.group_id and cm.peer_id = r.peer_id
                and (cm.muted_until is null or cm.muted_until > now())
                -- HOOK(mentions): a message that mentions the recipient notifies through a mute; once
                -- messages carry mentions: "and not exists (<a message of the batch in this
                -- conversation that mentions r.user_id>)".
            )
            -- HOOK(blocking): a recipient who blocks the sender is not notified; once the blocks
            -- table exists: "and not exists (select 1 from <blocks> where blocker = r.user_id and blocked = <sender>)".
        ), up as (
          -- A recipient already waiting for a notification about the conversation is left as it is
          -- (the message folds into it: the notification describes the newest message when it
          -- goes); otherwise it waits until the fold window since its last one is over.
          insert into push_state as p (user_id, group_id, peer_id, pending_id, due_at)
          select user_id, group_id, peer_id, id, now() from eligible order by 1, 2, 3
          on conflict (user_id, group_id, peer_id) do update set
            pending_id = excluded.pending_id,
            due_at = greatest(now(), p.sent_at + ${foldMs}::int * interval '1 millisecond')
          where p.pending_id is null and excluded.pending_id > p.sent_id
          returning 1
        )
        select (select count(*) from taken)::int as taken, (select coalesce(sum(n), 0) from eligible)::int as eligible,
               (select count(*) from up)::int as fresh`;
      const r = row!;
      return { taken: r.taken, eligible: r.eligible, folded: Math.max(0, r.eligible - r.fresh) };
    },

    /**
     * Takes the notifications that are due and makes their deliveries: each describes its
     * conversation's newest message now, with the recipient's unread count. One whose recipient
     * has read up to its message meanwhile (or left the group) is dropped. Dialogs are urgent.
     */
    async claim(limit: number, webhook: boolean): Promise<Claimed> {
      const [row] = await sql<Claimed[]>`
        with due as (
          select p.user_id, p.group_id, p.peer_id, p.pending_id from push_state p
          where p.pending_id is not null and p.due_at <= now()
          order by p.due_at limit ${limit}
          for update skip locked
        ), conv as materialized (
          select d.*, coalesce(g.last_message_id, dl.last_message_id) as newest_id, coalesce(g.last_seq, dl.last_seq) as last_seq,
                 case when d.group_id <> 0 then gm.last_read_seq
                      when d.user_id < d.peer_id then dl.lo_last_read_seq else dl.hi_last_read_seq end as read_seq,
                 (d.group_id = 0 or gm.user_id is not null) as member
          from due d
          left join groups g on d.group_id <> 0 and g.id = d.group_id
          left join group_members gm on d.group_id <> 0 and gm.group_id = d.group_id and gm.user_id = d.user_id
          left join dialogs dl on d.group_id = 0 and dl.user_lo = least(d.user_id, d.peer_id) and dl.user_hi = greatest(d.user_id, d.peer_id)
        ), judged as materialized (
          -- Read up to the newest message (what the notification would describe): nothing to tell.
          select c.*, (not c.member or c.newest_id is null or coalesce(c.read_seq, 0) >= c.last_seq) as dropped
          from conv c
        ), upd as (
          update push_state p set pending_id = null,
            sent_id = case when j.dropped then p.sent_id else j.newest_id end,
            sent_at = case when j.dropped then p.sent_at else now() end
          from judged j
          where p.user_id = j.user_id and p.group_id = j.group_id and p.peer_id = j.peer_id
        ), payloads as (
          select j.user_id, m.created_at,
                 j.group_id = 0 as urgent, -- HOOK(mentions): "or <j.user_id is mentioned by m>"
                 jsonb_build_object('type', 'message', 'id', m.id, 'seq', m.seq, 'senderId', m.sender_id,
                   'senderName', u.first_name, 'receiverId', m.receiver_id, 'groupId', m.group_id, 'groupName', g.name,
                   -- HOOK(attachments): "or the first attachment's name" when the content is empty.
                   'preview', left(m.content, 100),
                   'unreadCount', greatest(j.last_seq - coalesce(j.read_seq, 0), 0)) as payload
          from judged j
          join messages m on m.id = j.newest_id
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

export type PushQueue = ReturnType<typeof createPushQueue>;

import type { Sql } from './client.js';

/** At most this many subscriptions per account: registering one more drops the oldest. */
export const MAX_SUBSCRIPTIONS = 10;

export interface NewSubscription { userId: number; endpoint: string; p256dh: string; auth: string }

// The statements on their own, for the plan checks (test/explain.test.ts).

/** Registers a subscription, or updates and takes over a known endpoint. */
export const subscriptionUpsertStatement = (sql: Sql, s: NewSubscription) => sql<{ id: number }[]>`
  insert into push_subscriptions (user_id, endpoint, p256dh, auth)
  values (${s.userId}, ${s.endpoint}, ${s.p256dh}, ${s.auth})
  on conflict (endpoint) do update set user_id = excluded.user_id, p256dh = excluded.p256dh,
    auth = excluded.auth, created_at = now()
  returning id`;

/** Drops the account's oldest subscriptions beyond the limit. */
export const subscriptionTrimStatement = (sql: Sql, userId: number) => sql`
  delete from push_subscriptions where id in (
    select id from push_subscriptions where user_id = ${userId}
    order by created_at desc, id desc offset ${MAX_SUBSCRIPTIONS})`;

export const subscriptionRemoveStatement = (sql: Sql, userId: number, endpoint: string) =>
  sql`delete from push_subscriptions where user_id = ${userId} and endpoint = ${endpoint}`;

/** push_subscriptions (010_push.sql). */
export function createPushSubscriptions(sql: Sql) {
  return {
    /**
     * Registers (or, for a known endpoint, updates and takes over) a subscription, then drops the
     * account's oldest beyond the limit. One transaction: two registrations at once never leave 11.
     */
    async save(s: NewSubscription): Promise<number> {
      return sql.begin(async (tx) => {
        // Serializes an account's registrations (the count below must see the other's row).
        await tx`select 1 from users where id = ${s.userId} for no key update`;
        const [row] = await subscriptionUpsertStatement(tx as unknown as Sql, s);
        await subscriptionTrimStatement(tx as unknown as Sql, s.userId);
        return row!.id;
      });
    },

    /** Deletes the caller's subscription to `endpoint` (none: nothing happens). */
    async remove(userId: number, endpoint: string): Promise<void> {
      await subscriptionRemoveStatement(sql, userId, endpoint);
    },

    /** Password change, account deletion: the account's devices are told nothing more. */
    async removeAll(userId: number): Promise<void> {
      await sql`delete from push_subscriptions where user_id = ${userId}`;
    },

    /** A push service said 404 or 410: the subscription is gone. */
    async removeById(id: number): Promise<void> {
      await sql`delete from push_subscriptions where id = ${id}`;
    },
  };
}

export type PushSubscriptions = ReturnType<typeof createPushSubscriptions>;

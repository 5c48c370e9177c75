import type { Sql } from './client.js';

const INT4 = 23;

/** A node's batch of changes: users that got their first socket, users that lost their last. */
export const socketsApplyStatement = (sql: Sql, nodeId: string, up: number[], down: number[]) => sql`
  with gone as (
    delete from push_sockets where node_id = ${nodeId} and user_id = any(${sql.array(down, INT4)}::int[])
  )
  insert into push_sockets (user_id, node_id)
  select u, ${nodeId} from unnest(${sql.array(up, INT4)}::int[]) as u
  on conflict do nothing`;

/** A graceful stop: the node's row goes, and its socket rows by cascade (push_sockets_node_idx). */
export const nodeLeaveStatement = (sql: Sql, nodeId: string) => sql`delete from push_nodes where node_id = ${nodeId}`;

/**
 * push_nodes / push_sockets (010_push.sql): which node holds open sockets of which user, so that a
 * worker on any node tells "no open socket on any node" exactly. A node's rows count while its
 * push_nodes row is alive; a node that died without closing its sockets stops counting then.
 */
export function createPushSockets(sql: Sql) {
  return {
    /** Renews this node's row; true when it had to be made (first start, or swept while unreachable). */
    async heartbeat(nodeId: string, ttlMs: number): Promise<boolean> {
      const [row] = await sql<{ made: boolean }[]>`
        insert into push_nodes (node_id, alive_until) values (${nodeId}, now() + ${ttlMs}::int * interval '1 millisecond')
        on conflict (node_id) do update set alive_until = excluded.alive_until
        returning (xmax = 0) as made`;
      return row!.made;
    },

    /** Applies a batch of this node's changes: users that got their first socket, users that lost their last. */
    async apply(nodeId: string, up: number[], down: number[]): Promise<void> {
      await socketsApplyStatement(sql, nodeId, up, down);
    },

    /** Nodes dead for a while (and their rows, by cascade); any node may sweep. */
    async sweep(): Promise<void> {
      await sql`delete from push_nodes where alive_until < now() - interval '1 minute'`;
    },

    /** A graceful stop: this node's sockets are closed. */
    async leave(nodeId: string): Promise<void> {
      await nodeLeaveStatement(sql, nodeId);
    },
  };
}

export type PushSocketsStore = ReturnType<typeof createPushSockets>;

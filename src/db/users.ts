import type { Sql } from './client.js';
import { DELETED_NAME, MAX_ID32 } from '../protocol.js';
import { passOwnership } from './groups.js';
import { createBatcher } from './batch.js';

/** The public shape of an account (PROTOCOL.md: `user`). */
export interface User {
  id: number;
  email: string;
  firstName: string;
  lastName: string | null;
  createdAt: Date;
}

export interface Credentials extends User {
  passwordHash: string;
  tokenVersion: number;
}

export interface AuthState {
  tokenVersion: number;
  firstName: string;
  deleted: boolean;
}

export interface SocketState extends AuthState {
  groupIds: number[];
}

export interface UserSummary {
  id: number;
  firstName: string;
  lastName: string | null;
}

export function createUsers(sql: Sql) {
  const socketStates = async (ids: number[]): Promise<(SocketState & { id: number })[]> => {
    if (ids.length === 0) return [];
    return sql<(SocketState & { id: number })[]>`
      select u.id, u.token_version as "tokenVersion", u.first_name as "firstName", u.deleted_at is not null as deleted,
             array(select group_id from group_members where user_id = u.id) as "groupIds"
      from users u where u.id = any(${sql.array(ids, 23)}::int[])`;
  };
  // Handshakes come in bursts (a reconnect wave after a deploy or a network cut): a statement
  // each cost the server and the database more than the lookup itself. Those of one event-loop
  // turn, and those arriving while a lookup is in flight, share one statement instead.
  const socketStateBatch = createBatcher(async (ids: number[]): Promise<(SocketState | undefined)[]> => {
    const byId = new Map((await socketStates(ids.filter((id) => id > 0 && id <= MAX_ID32))).map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id));
  });

  return {
    async insert(u: { email: string; passwordHash: string; firstName: string; lastName: string | null }): Promise<User> {
      const [row] = await sql<User[]>`
        insert into users (email, password_hash, first_name, last_name)
        values (${u.email}, ${u.passwordHash}, ${u.firstName}, ${u.lastName})
        returning id, email, first_name as "firstName", last_name as "lastName", created_at as "createdAt"`;
      return row!;
    },

    async credentialsByEmail(email: string): Promise<Credentials | undefined> {
      const [row] = await sql<Credentials[]>`
        select id, email, first_name as "firstName", last_name as "lastName", created_at as "createdAt",
               password_hash as "passwordHash", token_version as "tokenVersion"
        from users where lower(email) = lower(${email}) and deleted_at is null`;
      return row;
    },

    async credentialsById(id: number): Promise<Credentials | undefined> {
      const [row] = await sql<Credentials[]>`
        select id, email, first_name as "firstName", last_name as "lastName", created_at as "createdAt",
               password_hash as "passwordHash", token_version as "tokenVersion"
        from users where id = ${id} and deleted_at is null`;
      return row;
    },

    async byId(id: number): Promise<User | undefined> {
      const [row] = await sql<User[]>`
        select id, email, first_name as "firstName", last_name as "lastName", created_at as "createdAt"
        from users where id = ${id} and deleted_at is null`;
      return row;
    },

    /** What revocation needs: every authenticated request and upgrade asks this. */
    async authState(id: number): Promise<AuthState | undefined> {
      const [row] = await sql<AuthState[]>`
        select token_version as "tokenVersion", first_name as "firstName", deleted_at is not null as deleted
        from users where id = ${id}`;
      return row;
    },

    /** Revocation state plus the groups to subscribe, asked at every WebSocket handshake (batched). */
    socketState: (id: number): Promise<SocketState | undefined> => socketStateBatch(id),

    /** socketState for many accounts at once (re-checking a node's sockets after a relay outage). */
    socketStates,

    /** Only the fields given change; returns undefined when the account is gone. */
    async update(id: number, patch: { email?: string; firstName?: string; lastName?: string | null }): Promise<User | undefined> {
      const [row] = await sql<User[]>`
        update users set
          email = coalesce(${patch.email ?? null}, email),
          first_name = coalesce(${patch.firstName ?? null}, first_name),
          last_name = case when ${patch.lastName !== undefined} then ${patch.lastName ?? null} else last_name end,
          updated_at = now()
        where id = ${id} and deleted_at is null
        returning id, email, first_name as "firstName", last_name as "lastName", created_at as "createdAt"`;
      return row;
    },

    /** Sets a new hash and bumps the token version, so every older token fails. */
    async setPassword(id: number, passwordHash: string): Promise<number | undefined> {
      const [row] = await sql<{ tokenVersion: number }[]>`
        update users set password_hash = ${passwordHash}, token_version = token_version + 1, updated_at = now()
        where id = ${id} and deleted_at is null
        returning token_version as "tokenVersion"`;
      return row?.tokenVersion;
    },

    /**
     * Erases personal data and leaves a tombstone (the id stays for history). Returns the groups
     * the account left, with their names and, where it was the owner, who owns them now; or
     * undefined if it was already gone.
     */
    async softDelete(id: number): Promise<{ groupId: number; groupName: string; newOwnerId: number | undefined }[] | undefined> {
      return sql.begin(async (tx) => {
        const [gone] = await tx`
          update users set email = null, password_hash = null, first_name = ${DELETED_NAME}, last_name = null,
                 token_version = token_version + 1, deleted_at = now(), updated_at = now(), last_seen_at = null
          where id = ${id} and deleted_at is null
          returning id`;
        if (!gone) return undefined;
        const left = await tx<{ groupId: number; groupName: string; role: string }[]>`
          with left_groups as (
            delete from group_members where user_id = ${id} returning group_id, role
          )
          select g.id as "groupId", g.name as "groupName", l.role
          from left_groups l join groups g on g.id = l.group_id
          order by g.id`;
        const out = [];
        for (const g of left) {
          // Ownership passes on as when the owner leaves (PROTOCOL.md v1.1).
          const newOwnerId = g.role === 'owner' ? await passOwnership(tx, g.groupId) : undefined;
          out.push({ groupId: g.groupId, groupName: g.groupName, newOwnerId });
        }
        return out;
      });
    },

    /** A `typing` in a dialog: the typer's name and whether the partner is an active account. */
    /** `blocked`: either blocks the other (v1.2): the typing is answered and pushed to no one. */
    async typingPeer(me: number, peer: number): Promise<{ name: string; found: boolean; blocked: boolean } | undefined> {
      const [row] = await sql<{ name: string; found: boolean; blocked: boolean }[]>`
        select u.first_name as name, exists (select 1 from users p where p.id = ${peer} and p.deleted_at is null) as found,
               exists (select 1 from blocks b where b.blocker_id = ${me} and b.blocked_id = ${peer})
               or exists (select 1 from blocks b where b.blocker_id = ${peer} and b.blocked_id = ${me}) as blocked
        from users u where u.id = ${me}`;
      return row;
    },

    /** Active accounts whose first or last name starts with `query`, or whose email is exactly it. */
    async search(query: string, limit: number, offset: number): Promise<UserSummary[]> {
      const prefix = `${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      return sql<UserSummary[]>`
        select id, first_name as "firstName", last_name as "lastName" from (
          select id, first_name, last_name from users
            where deleted_at is null and lower(first_name) like ${prefix}
          union
          select id, first_name, last_name from users
            where deleted_at is null and lower(last_name) like ${prefix}
          union
          select id, first_name, last_name from users
            where deleted_at is null and lower(email) = lower(${query})
        ) found
        order by id
        limit ${limit} offset ${offset}`;
    },

    async list(limit: number, offset: number): Promise<UserSummary[]> {
      return sql<UserSummary[]>`
        select id, first_name as "firstName", last_name as "lastName"
        from users where deleted_at is null order by id limit ${limit} offset ${offset}`;
    },
  };
}

export type Users = ReturnType<typeof createUsers>;

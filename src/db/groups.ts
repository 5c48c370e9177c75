import type postgres from 'postgres';
import type { Sql } from './client.js';

export type Tx = postgres.TransactionSql<Record<string, never>>;

export type Role = 'owner' | 'admin' | 'member';

export interface Group {
  groupId: number;
  groupName: string;
  createdAt: Date;
}

export interface CreatedGroup extends Group {
  creatorName: string;
}

export type AddResult =
  | { ok: true; groupName: string; userName: string; adderName: string }
  | { ok: false; reason: 'not-member' | 'no-user' | 'already-member' };

export interface GroupInfo {
  groupId: number; groupName: string; createdAt: Date; ownerId: number | null; memberCount: number; role: Role;
  /** The group's newest seq (v1.1 conversation state), 0 before the first message. */
  lastSeq: number;
}

export interface Member {
  userId: number; firstName: string; lastName: string | null; role: Role; joinedAt: Date;
  /** The member's read marker: "read by" for the group's messages (null: nothing read). */
  lastReadId: number | null;
}

/** The caller's role (undefined: not a member) and what a role-checked change did. */
export interface RoleChecked { actorRole: Role | undefined; actorName: string }

export type RenameResult = RoleChecked & { groupName: string | null };
export type RemoveResult = RoleChecked & { groupName: string; targetRole: Role | undefined; targetName: string; removed: boolean };
export type SetRoleResult = RoleChecked & { targetRole: Role | undefined; changed: boolean };

export interface Left { name: string; newOwnerId: number | undefined }

/**
 * After an owner left (in the same transaction): the admin who joined earliest, else the member
 * who joined earliest, becomes owner. Returns the new owner, or undefined if nobody is left.
 * The candidate row is locked; if it vanished meanwhile (that member left too), the next is tried.
 */
export async function passOwnership(tx: Tx, groupId: number): Promise<number | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const [row] = await tx<{ userId: number }[]>`
      update group_members set role = 'owner'
      where (group_id, user_id) = (
        select group_id, user_id from group_members where group_id = ${groupId}
        order by (role = 'admin') desc, joined_at, user_id limit 1 for update
      )
      returning user_id as "userId"`;
    if (row) return row.userId;
    const [left] = await tx`select 1 from group_members where group_id = ${groupId} limit 1`;
    if (!left) return undefined;
  }
  return undefined;
}

/*
 * Role checks happen inside the statement that makes the change: the caller's membership row is
 * read `for share`, so a concurrent role change or removal of the caller (another admin, on
 * another node) either commits first and is seen, or waits for this change. The target row is
 * re-checked by the update/delete itself.
 */
export function createGroups(sql: Sql) {
  return {
    /** Creates the group with its creator as the first member (nothing to read yet), atomically. */
    async create(name: string, creatorId: number): Promise<CreatedGroup> {
      const [row] = await sql<CreatedGroup[]>`
        with g as (
          insert into groups (name, created_by) values (${name}, ${creatorId})
          returning id, name, created_at
        ), m as (
          insert into group_members (group_id, user_id, joined_at, role) select id, ${creatorId}, created_at, 'owner' from g
        )
        select id as "groupId", name as "groupName", created_at as "createdAt",
               (select first_name from users where id = ${creatorId}) as "creatorName"
        from g`;
      return row!;
    },

    /**
     * The caller's membership, the target's existence and the insert, in one statement. The
     * newcomer's read marker starts at the group's newest message: earlier ones are history,
     * never unread.
     */
    async addMember(groupId: number, adderId: number, userId: number): Promise<AddResult> {
      const [row] = await sql<{
        groupName: string | null; adderName: string | null; userName: string | null; added: boolean;
      }[]>`
        with adder as (
          select g.name, u.first_name, g.last_seq, g.last_message_id
          from group_members gm join groups g on g.id = gm.group_id join users u on u.id = gm.user_id
          where gm.group_id = ${groupId} and gm.user_id = ${adderId}
        ), target as (
          select first_name from users where id = ${userId} and deleted_at is null
        ), ins as (
          insert into group_members (group_id, user_id, last_read_id, last_read_seq)
          select ${groupId}, ${userId}, adder.last_message_id, adder.last_seq from adder where exists (select 1 from target)
          on conflict do nothing
          returning 1
        )
        select (select name from adder) as "groupName", (select first_name from adder) as "adderName",
               (select first_name from target) as "userName", exists (select 1 from ins) as added`;
      if (!row?.groupName || !row.adderName) return { ok: false, reason: 'not-member' };
      if (!row.userName) return { ok: false, reason: 'no-user' };
      if (!row.added) return { ok: false, reason: 'already-member' };
      return { ok: true, groupName: row.groupName, userName: row.userName, adderName: row.adderName };
    },

    /**
     * Leaves the group; an owner leaving passes ownership on in the same transaction. Returns the
     * leaver's name and the new owner, or undefined when they were not a member.
     */
    async removeMember(groupId: number, userId: number): Promise<Left | undefined> {
      return sql.begin(async (tx) => {
        const [row] = await tx<{ name: string; role: Role }[]>`
          with gone as (
            delete from group_members where group_id = ${groupId} and user_id = ${userId} returning user_id, role
          )
          select u.first_name as name, gone.role from gone join users u on u.id = gone.user_id`;
        if (!row) return undefined;
        const newOwnerId = row.role === 'owner' ? await passOwnership(tx, groupId) : undefined;
        return { name: row.name, newOwnerId };
      });
    },

    /** The group as the member `me` sees it: one row, none when `me` is not a member. */
    info(groupId: number, me: number) {
      return sql<GroupInfo[]>`
        select g.id as "groupId", g.name as "groupName", g.created_at as "createdAt",
               (select o.user_id from group_members o where o.group_id = g.id and o.role = 'owner') as "ownerId",
               (select count(*)::int from group_members c where c.group_id = g.id) as "memberCount",
               gm.role, g.last_seq as "lastSeq"
        from group_members gm join groups g on g.id = gm.group_id
        where gm.group_id = ${groupId} and gm.user_id = ${me}`;
    },

    /**
     * Members, longest-standing first. The caller's membership is read in the same statement:
     * the first row's `member` says whether `me` may see them (a member past the last page gets
     * one row of nulls but `member`).
     */
    members(groupId: number, me: number, limit: number, offset: number) {
      return sql<(Partial<Member> & { member: boolean })[]>`
        select me.user_id is not null as member, l.*
        from (select 1) one
        left join group_members me on me.group_id = ${groupId} and me.user_id = ${me}
        left join lateral (
          -- The page first (seniority index), then the names of its rows (users primary key).
          select m.user_id as "userId", u.first_name as "firstName", u.last_name as "lastName",
                 m.role, m.joined_at as "joinedAt", m.last_read_id as "lastReadId"
          from (
            select user_id, role, joined_at, last_read_id from group_members
            where me.user_id is not null and group_id = ${groupId}
            order by joined_at, user_id limit ${limit} offset ${offset}
          ) m
          cross join lateral (select first_name, last_name from users where id = m.user_id) u
          order by m.joined_at, m.user_id
        ) l on true`;
    },

    /** Owner or admin renames; `groupName` is null when the role did not allow it. */
    async rename(groupId: number, me: number, name: string): Promise<RenameResult> {
      const [row] = await sql<{ actorRole: Role | null; actorName: string | null; groupName: string | null }[]>`
        with actor as (
          select gm.role, u.first_name from group_members gm join users u on u.id = gm.user_id
          where gm.group_id = ${groupId} and gm.user_id = ${me}
          for share of gm
        ), upd as (
          update groups set name = ${name}
          where id = ${groupId} and (select role from actor) in ('owner', 'admin')
          returning name
        )
        select (select role from actor) as "actorRole", (select first_name from actor) as "actorName",
               (select name from upd) as "groupName"`;
      return { actorRole: row?.actorRole ?? undefined, actorName: row?.actorName ?? '', groupName: row?.groupName ?? null };
    },

    /**
     * Owner or admin removes a member; only the owner removes an admin; nobody removes the owner.
     * All of it is decided by the delete's own conditions.
     */
    async removeUser(groupId: number, me: number, userId: number): Promise<RemoveResult> {
      const [row] = await sql<{
        actorRole: Role | null; actorName: string | null; groupName: string | null;
        targetRole: Role | null; targetName: string | null; removed: boolean;
      }[]>`
        with actor as (
          select gm.role, u.first_name, g.name as group_name
          from group_members gm join users u on u.id = gm.user_id join groups g on g.id = gm.group_id
          where gm.group_id = ${groupId} and gm.user_id = ${me}
          for share of gm
        ), target as (
          select gm.role, u.first_name from group_members gm join users u on u.id = gm.user_id
          where gm.group_id = ${groupId} and gm.user_id = ${userId}
        ), gone as (
          delete from group_members t
          where t.group_id = ${groupId} and t.user_id = ${userId}
            and t.role <> 'owner'
            and (select role from actor) in ('owner', 'admin')
            and (t.role = 'member' or (select role from actor) = 'owner')
          returning t.user_id
        )
        select (select role from actor) as "actorRole", (select first_name from actor) as "actorName",
               (select group_name from actor) as "groupName",
               (select role from target) as "targetRole", (select first_name from target) as "targetName",
               exists (select 1 from gone) as removed`;
      return {
        actorRole: row?.actorRole ?? undefined, actorName: row?.actorName ?? '', groupName: row?.groupName ?? '',
        targetRole: row?.targetRole ?? undefined, targetName: row?.targetName ?? '', removed: row?.removed ?? false,
      };
    },

    /** Owner only; the owner's own row never changes here; the same role again changes nothing. */
    async setRole(groupId: number, me: number, userId: number, role: 'admin' | 'member'): Promise<SetRoleResult> {
      const [row] = await sql<{ actorRole: Role | null; actorName: string | null; targetRole: Role | null; changed: boolean }[]>`
        with actor as (
          select gm.role, u.first_name from group_members gm join users u on u.id = gm.user_id
          where gm.group_id = ${groupId} and gm.user_id = ${me}
          for share of gm
        ), target as (
          select role from group_members where group_id = ${groupId} and user_id = ${userId}
        ), upd as (
          update group_members t set role = ${role}
          where t.group_id = ${groupId} and t.user_id = ${userId}
            and t.role <> 'owner' and t.role <> ${role}
            and (select role from actor) = 'owner'
          returning 1
        )
        select (select role from actor) as "actorRole", (select first_name from actor) as "actorName",
               (select role from target) as "targetRole", exists (select 1 from upd) as changed`;
      return {
        actorRole: row?.actorRole ?? undefined, actorName: row?.actorName ?? '',
        targetRole: row?.targetRole ?? undefined, changed: row?.changed ?? false,
      };
    },

    /**
     * Who a `typing` in the group goes to: the other members, with the typer's name; undefined
     * when `me` is not a member (no row). One statement through the primary key.
     */
    typingTargets(groupId: number, me: number) {
      return sql<{ name: string; others: number[] }[]>`
        select u.first_name as name,
               array(select o.user_id from group_members o where o.group_id = ${groupId} and o.user_id <> ${me}) as others
        from group_members gm join users u on u.id = gm.user_id
        where gm.group_id = ${groupId} and gm.user_id = ${me}`;
    },
  };
}

export type Groups = ReturnType<typeof createGroups>;

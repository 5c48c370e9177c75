import type { Sql } from './client.js';

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

export function createGroups(sql: Sql) {
  return {
    /** Creates the group with its creator as the first member, atomically. */
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

    /** The caller's membership, the target's existence and the insert, in one statement. */
    async addMember(groupId: number, adderId: number, userId: number): Promise<AddResult> {
      const [row] = await sql<{
        groupName: string | null; adderName: string | null; userName: string | null; added: boolean;
      }[]>`
        with adder as (
          select g.name, u.first_name
          from group_members gm join groups g on g.id = gm.group_id join users u on u.id = gm.user_id
          where gm.group_id = ${groupId} and gm.user_id = ${adderId}
        ), target as (
          select first_name from users where id = ${userId} and deleted_at is null
        ), ins as (
          insert into group_members (group_id, user_id)
          select ${groupId}, ${userId} where exists (select 1 from adder) and exists (select 1 from target)
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

    /** Returns the leaver's name, or undefined when they were not a member. */
    async removeMember(groupId: number, userId: number): Promise<string | undefined> {
      const [row] = await sql<{ name: string }[]>`
        with gone as (
          delete from group_members where group_id = ${groupId} and user_id = ${userId} returning user_id
        )
        select u.first_name as name from gone join users u on u.id = gone.user_id`;
      return row?.name;
    },
  };
}

export type Groups = ReturnType<typeof createGroups>;

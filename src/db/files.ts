import type { Sql } from './client.js';

/** A files row as the routes use it. */
export interface FileRow {
  id: string; ownerId: number; name: string; size: number; contentType: string; sha256: string;
  width: number | null; height: number | null; hasThumbnail: boolean; createdAt: Date;
}

export type NewFile = Omit<FileRow, 'createdAt'>;

const COLUMNS = (sql: Sql) => sql`
  f.id, f.owner_id as "ownerId", f.name, f.size, f.content_type as "contentType", f.sha256, f.width, f.height,
  f.has_thumbnail as "hasThumbnail", f.created_at as "createdAt"`;

// Serialises an account's uploads while one is counted against its quota: two uploads that each
// fit cannot both be kept when together they do not. A lock key of its own (namespace, user).
const QUOTA_LOCK = 7_245_024;

export function createFiles(sql: Sql) {
  return {
    /** Bytes the account keeps (orphans included until swept): files_owner_idx, index-only. */
    async usedBytes(ownerId: number): Promise<number> {
      const [row] = await sql<{ used: number }[]>`select coalesce(sum(size), 0)::bigint as used from files where owner_id = ${ownerId}`;
      return row?.used ?? 0;
    },

    /** Stores the row if the account's files plus this one fit in `quota`; false if not. */
    async insertWithinQuota(file: NewFile, quota: number): Promise<FileRow | undefined> {
      return sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(${QUOTA_LOCK}, ${file.ownerId})`;
        const [row] = await tx<FileRow[]>`
          insert into files (id, owner_id, name, size, content_type, sha256, width, height, has_thumbnail)
          select ${file.id}, ${file.ownerId}, ${file.name}, ${file.size}, ${file.contentType}, ${file.sha256},
                 ${file.width}, ${file.height}, ${file.hasThumbnail}
          where (select coalesce(sum(size), 0) from files where owner_id = ${file.ownerId}) + ${file.size} <= ${quota}
          returning id, owner_id as "ownerId", name, size, content_type as "contentType", sha256, width, height,
                    has_thumbnail as "hasThumbnail", created_at as "createdAt"`;
        return row;
      });
    },

    /**
     * The file if `me` may read it: its uploader, or a member of a conversation where a message
     * that is not deleted carries it (a group: a member now; a dialog: either side).
     * `exists` tells a file that is there but not for `me` from one that is not there (both 404).
     */
    async readable(id: string, me: number): Promise<FileRow | undefined> {
      const [row] = await sql<FileRow[]>`
        select ${COLUMNS(sql)} from files f
        where f.id = ${id} and (f.owner_id = ${me} or exists (
          select 1 from message_attachments a
          join messages m on m.id = a.message_id
          left join group_members gm on gm.group_id = m.group_id and gm.user_id = ${me}
          where a.file_id = f.id and m.deleted_at is null
            and (gm.user_id is not null or (m.receiver_id is not null and ${me}::int in (m.sender_id, m.receiver_id)))))`;
      return row;
    },

    /** A file by id, for a signed URL (the signature is the permission). */
    async byId(id: string): Promise<FileRow | undefined> {
      const [row] = await sql<FileRow[]>`select ${COLUMNS(sql)} from files f where f.id = ${id}`;
      return row;
    },

    /** Those of `ids` that `ownerId` uploaded (a send may attach only its sender's files). */
    async owned(ids: readonly string[], ownerId: number): Promise<FileRow[]> {
      return sql<FileRow[]>`select ${COLUMNS(sql)} from files f where f.id = any(${sql.array(ids as string[])}::text[]) and f.owner_id = ${ownerId}`;
    },

    /** Each message's attachments, in order (the rare paths: a repeated send). */
    async ofMessage(messageId: number): Promise<FileRow[]> {
      return sql<FileRow[]>`
        select ${COLUMNS(sql)} from message_attachments a join files f on f.id = a.file_id
        where a.message_id = ${messageId} order by a.position`;
    },

    /** Deletes an account's files: their attachments first (they vanish from messages), then the rows. */
    async deleteOwnedBy(ownerId: number): Promise<{ id: string; hasThumbnail: boolean }[]> {
      return sql.begin(async (tx) => {
        await tx`delete from message_attachments where file_id in (select id from files where owner_id = ${ownerId})`;
        return tx<{ id: string; hasThumbnail: boolean }[]>`delete from files where owner_id = ${ownerId} returning id, has_thumbnail as "hasThumbnail"`;
      });
    },
  };
}

export type Files = ReturnType<typeof createFiles>;

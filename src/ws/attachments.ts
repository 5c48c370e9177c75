import type { Services } from '../services.js';
import type { FileRow } from '../db/files.js';
import type { FileInfo } from '../../client/src/wire.js';
import { ClientError, ErrorCode } from '../protocol.js';

/**
 * The files a send attaches, in its order: each must be one the sender uploaded (another's, or
 * an unknown id, is NOT_FOUND: the same answer, so ids cannot be probed). One query for all.
 */
export async function filesToAttach(s: Services, senderId: number, ids: readonly string[] | undefined): Promise<FileRow[]> {
  if (!ids || ids.length === 0) return [];
  const rows = await s.files.owned(ids, senderId);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const row = byId.get(id);
    if (!row) throw new ClientError(ErrorCode.NOT_FOUND, `File not found: ${id}`);
    return row;
  });
}

/**
 * A send's `attachments` as its reply and pushes show them: the files it was given, or, for a
 * repeated send (same clientMessageId) answered with the message stored first, that message's.
 */
export async function attachmentsOf(s: Services, stored: boolean, messageId: number, files: readonly FileRow[]): Promise<FileInfo[]> {
  const exp = s.signer.expiry();
  const rows = stored ? files : await s.files.ofMessage(messageId);
  return rows.map((f) => s.fileService.toWire(f, exp));
}

import type { DialogHistoryRow, FileInfo, GroupHistoryRow, GroupMessageData, PrivateMessageData, PushData, Reaction, ReplyTo } from './wire.js';

/** A message in one shape, whatever it came from (a push, a send's reply, a history row). */
export interface ChatMessage {
  id: number;
  /** Its place in its conversation (v1.1; null from a v1 server). */
  seq: number | null;
  senderId: number;
  /** The sender's first name when the source carried it. */
  senderName: string | null;
  /** Set in a dialog (the brief's receiver: the other side of the sender). */
  receiverId: number | null;
  /** Set in a group. */
  groupId: number | null;
  content: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  /** v1.2: the message it replies to, as it was when this shape was read (null: none, or a v1.1 server). */
  replyTo: ReplyTo | null;
  /** v1.2: mentioned members ([] in dialogs, when none, or from a v1.1 server). */
  mentions: number[];
  /** v1.2: [] for a new message; from history rows as the reader sees them (keep up with applyReaction). */
  reactions: Reaction[];
  /** v1.2: its files (`[]` when none, or from a server without files). */
  attachments: FileInfo[];
}

/**
 * A history row as a ChatMessage: the histories answer in the brief's snake_case (`sender_id`,
 * `receverName`), everything else in camelCase; the SDK hands out one shape. The row as the
 * server sent it stays in `raw` (e.g. `raw.receverName`, the name of `receiver_id`).
 */
export type HistoryMessage<R extends DialogHistoryRow | GroupHistoryRow = DialogHistoryRow | GroupHistoryRow> = ChatMessage & { raw: R };

/** A conversation as this user sees it: a dialog with `peerId`, or a group. */
export type Conversation = { kind: 'dialog'; peerId: number } | { kind: 'group'; groupId: number };

export const conversationKey = (c: Conversation): string => (c.kind === 'dialog' ? `d:${c.peerId}` : `g:${c.groupId}`);

/** The conversation a message belongs to, seen from `me`. */
export function conversationOf(m: Pick<ChatMessage, 'senderId' | 'receiverId' | 'groupId'>, me: number): Conversation {
  if (m.groupId !== null) return { kind: 'group', groupId: m.groupId };
  return { kind: 'dialog', peerId: m.senderId === me ? (m.receiverId ?? me) : m.senderId };
}

export const fromPrivate = (d: PrivateMessageData, senderName: string | null): ChatMessage => ({
  id: d.id, seq: d.seq ?? null, senderId: d.senderId, senderName, receiverId: d.receiverId, groupId: null,
  content: d.content, createdAt: d.createdAt, editedAt: null, deletedAt: null,
  replyTo: d.replyTo ?? null, mentions: d.mentions ?? [], reactions: [], attachments: d.attachments ?? [],
});

export const fromGroup = (d: GroupMessageData | PushData<'messageInGroup'>, senderName: string | null): ChatMessage => ({
  id: d.id, seq: d.seq ?? null, senderId: d.senderId, senderName, receiverId: null, groupId: d.groupId,
  content: d.content, createdAt: d.createdAt, editedAt: null, deletedAt: null,
  replyTo: d.replyTo ?? null, mentions: d.mentions ?? [], reactions: [], attachments: d.attachments ?? [],
});

export const fromDialogRow = (r: DialogHistoryRow): ChatMessage => ({
  id: r.id, seq: r.seq ?? null, senderId: r.sender_id, senderName: r.senderName, receiverId: r.receiver_id, groupId: null,
  content: r.content, createdAt: r.created_at, editedAt: r.editedAt ?? null, deletedAt: r.deletedAt ?? null,
  replyTo: r.replyTo ?? null, mentions: r.mentions ?? [], reactions: r.reactions ?? [], attachments: r.attachments ?? [],
});

export const fromGroupRow = (r: GroupHistoryRow): ChatMessage => ({
  id: r.id, seq: r.seq ?? null, senderId: r.sender_id, senderName: r.senderName, receiverId: null, groupId: r.group_id,
  content: r.content, createdAt: r.created_at, editedAt: r.editedAt ?? null, deletedAt: r.deletedAt ?? null,
  replyTo: r.replyTo ?? null, mentions: r.mentions ?? [], reactions: r.reactions ?? [], attachments: r.attachments ?? [],
});

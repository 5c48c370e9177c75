/**
 * Relay's wire contract (PROTOCOL.md, v1, v1.1 and v1.2) as TypeScript types: request params, reply
 * data, push data, error codes and close codes. Types only: the server imports this file with
 * `import type` and checks its handlers and pushes against it, the SDK builds on it, and
 * neither bundle gets code from the other. See client/README.md, "Where the wire types live".
 *
 * Dates travel as ISO 8601 strings. A field marked `?` is one that a v1 (or, for v1.2 fields, a
 * v1.1) server does not send.
 */

// ---------- errors and close codes ----------

/** `code` of an error reply (WebSocket) or error body (HTTP). */
export type ErrorCode =
  | 'BAD_REQUEST' | 'VALIDATION' | 'UNAUTHORIZED' | 'NOT_FOUND' | 'FORBIDDEN' | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE' | 'QUOTA_EXCEEDED' | 'RATE_LIMITED' | 'INTERNAL' | 'UNAVAILABLE';

/** The close codes the server uses, by name. */
export interface CloseCodes {
  /** The server is shutting down. */
  GOING_AWAY: 1001;
  /** The client broke the protocol badly enough that answering is pointless (ignored rate limits). */
  POLICY_VIOLATION: 1008;
  /** A frame over 64 KiB. */
  MESSAGE_TOO_BIG: 1009;
  /** The client read too slowly. */
  TRY_AGAIN_LATER: 1013;
  /** The connection's token expired: get a fresh one and reconnect. */
  TOKEN_EXPIRED: 4001;
  /** The account was deleted or its password changed: do not reconnect with this token. */
  REVOKED: 4003;
}

// ---------- envelopes ----------

export type RequestId = string | number;

export interface RequestFrame<T extends RequestType = RequestType> {
  type: T;
  params: Params<T>;
  requestId?: RequestId;
}

export interface SuccessFrame<D = unknown> {
  type: string;
  success: true;
  params: { data: D; message: string | null; senderName: string | null };
  requestId?: RequestId;
}

export interface ErrorFrame {
  error: true;
  type: string;
  message: string;
  code: ErrorCode;
  requestId?: RequestId;
  retryAfterMs?: number;
}

// ---------- shared shapes ----------

export type Role = 'owner' | 'admin' | 'member';

/** A conversation named by exactly one of the two (v1.1 requests). */
export type ConversationRef = { receiverId: number; groupId?: null } | { groupId: number; receiverId?: null };

export interface Paging { limit?: number; page?: number }
export interface HistoryPaging extends Paging { beforeId?: number; afterId?: number }

/** v1.2: the message a message replies to, as it is now (`content`: its first 100 code points, "" once deleted). */
export interface ReplyTo {
  id: number; seq: number; senderId: number; senderName: string; content: string; deletedAt: string | null;
}

/** v1.2: one emoji on a message: how many hold it, and whether the reader does. */
export interface Reaction { emoji: string; count: number; me: boolean }

/**
 * v1.2 fields of every message row (sends, pushes, edits, histories, getPinned). `reactions` only
 * in the rows that carry them (histories, getPinned, searchMessages); a new message has none.
 */
export interface MessageRowV12 {
  replyTo?: ReplyTo | null;
  /** Mentioned members, ascending ([] in dialogs and when none). */
  mentions?: number[];
}
export interface ReactionsV12 {
  /** In the order each emoji first appeared on the message. */
  reactions?: Reaction[];
}

// ---------- v1 requests and replies ----------

export interface ChatListRow {
  id: number | null;
  senderId: number | null;
  senderName: string | null;
  receiverId: number | null;
  receiverName: string | null;
  groupId: number | null;
  groupName: string | null;
  content: string | null;
  createdAt: string;
  updatedAt: string | null;
  deletedAt: string | null;
  /** v1.1: seq of the newest message (null for a group without messages). */
  seq?: number | null;
  unreadCount?: number;
  /** v1.1: the caller's read marker. */
  lastReadId?: number | null;
  /** v1.1, dialogs: how far the partner has read. */
  peerLastReadId?: number | null;
  /** v1.2: the caller blocks this dialog's partner (`false` for groups). */
  blocked?: boolean;
  /** v1.2: messages after the caller's read marker that mention the caller and are not deleted. */
  mentionCount?: number;
  /** v1.2: the caller muted this conversation (and the mute has not run out). */
  muted?: boolean;
  /** v1.2: when the mute ends; null while muted until unmuted, or when not muted. */
  mutedUntil?: string | null;
  /** v1.2: the name of the newest message's first file when its content is empty, else null. */
  attachmentName?: string | null;
}

export interface DialogHistoryRow extends MessageRowV12, ReactionsV12 {
  id: number;
  sender_id: number;
  receiver_id: number;
  /** Sic (the brief's spelling): the name of `receiver_id`. */
  receverName: string;
  senderName: string;
  content: string;
  created_at: string;
  seq?: number;
  editedAt?: string | null;
  deletedAt?: string | null;
  /** v1.2: the message's files (`[]` when none, and once the message is deleted). */
  attachments?: FileInfo[];
}

export interface GroupHistoryRow extends MessageRowV12, ReactionsV12 {
  id: number;
  sender_id: number;
  senderName: string;
  group_id: number;
  created_at: string;
  content: string;
  seq?: number;
  editedAt?: string | null;
  deletedAt?: string | null;
  /** v1.2: the message's files (`[]` when none, and once the message is deleted). */
  attachments?: FileInfo[];
}

export interface GroupCreated { groupId: number; groupName: string; createdAt: string }

export interface PrivateMessageData extends MessageRowV12 {
  id: number; senderId: number; receiverId: number; content: string; createdAt: string; seq?: number;
  /** v1.2: the message's files, with fresh signed URLs (`[]` when none). */
  attachments?: FileInfo[];
}

export interface GroupMessageData extends MessageRowV12 {
  id: number; groupId: number; senderId: number; content: string; createdAt: string; seq?: number;
  /** v1.2: the message's files, with fresh signed URLs (`[]` when none). */
  attachments?: FileInfo[];
}

// ---------- v1.1 replies ----------

export interface ReadState {
  userId: number;
  receiverId: number | null;
  groupId: number | null;
  lastReadId: number;
  lastReadSeq: number;
  unreadCount: number;
}

export interface EditedMessage extends MessageRowV12 {
  id: number; seq: number; senderId: number; receiverId: number | null; groupId: number | null;
  content: string; createdAt: string; editedAt: string;
  /** v1.2: the message's files (editing keeps them). */
  attachments?: FileInfo[];
}

export interface DeletedMessage {
  id: number; seq: number; senderId: number; receiverId: number | null; groupId: number | null; deletedAt: string;
}

export interface Presence { userId: number; online: boolean; lastSeenAt: string | null }

export interface GroupInfo {
  groupId: number; groupName: string; createdAt: string; ownerId: number | null; memberCount: number; role: Role;
  /** Read state (v1.1): the group's newest seq, 0 before the first message. */
  lastSeq?: number;
}

export interface GroupMember {
  userId: number; firstName: string; lastName: string | null; role: Role; joinedAt: string;
  /** Read state (v1.1): the member's read marker ("read by"). */
  lastReadId?: number | null;
}

// ---------- v1.2: search and blocking ----------

/** `[start, end)`: code point offsets into a message's `content` (end exclusive). */
export type Highlight = [number, number];

/** A `searchMessages` match. */
export interface SearchHit {
  id: number; seq: number;
  senderId: number; senderName: string;
  receiverId: number | null; receiverName: string | null;
  groupId: number | null; groupName: string | null;
  content: string; createdAt: string; editedAt: string | null;
  replyTo: ReplyTo | null;
  mentions: number[];
  reactions: Reaction[];
  /** The message's files, with fresh signed URLs. */
  attachments: FileInfo[];
  /** Every content word that some query word begins, in order. */
  highlights: Highlight[];
}

/** `query`: 1..200 code points, 1..10 words; at most one of receiverId/groupId (neither: every conversation). */
export interface SearchParams {
  query: string;
  receiverId?: number | null;
  groupId?: number | null;
  limit?: number;
  beforeId?: number;
}

export interface BlockedUser { userId: number; firstName: string; lastName: string | null; blockedAt: string }
// ---------- v1.2 replies ----------

/** Which message a reaction or pin is about: its own ids, whatever the caller's side. */
export interface MessageRef {
  messageId: number; seq: number; senderId: number; receiverId: number | null; groupId: number | null;
}

export interface ReactionState extends MessageRef { reactions: Reaction[] }

export interface PinState extends MessageRef { pinnedAt: string | null; pinnedBy: number | null }

/** getPinned rows: the conversation's own history row shape, plus when and by whom pinned. */
export type PinnedRow<R> = R & { pinnedAt: string; pinnedBy: number | null };

// ---------- v1.2 notifications ----------

/** A conversation's mute as the caller set it: `mutedUntil` null with `muted` true: until unmuted. */
export interface MuteState {
  receiverId: number | null;
  groupId: number | null;
  muted: boolean;
  mutedUntil: string | null;
}

/** A browser PushSubscription as `POST /push/subscriptions` takes it (PushSubscription.toJSON()). */
export interface PushSubscriptionBody { endpoint: string; keys: { p256dh: string; auth: string } }

/**
 * What a notification carries: the Web Push payload (encrypted per RFC 8291) and, with `userId`
 * added, the body POSTed to PUSH_WEBHOOK_URL.
 */
export interface PushNotification {
  type: 'message';
  id: number;
  seq: number;
  senderId: number;
  senderName: string;
  receiverId: number | null;
  groupId: number | null;
  groupName: string | null;
  /** The first 100 code points of the content (or the first attachment's name). */
  preview: string;
  unreadCount: number;
}

/** The webhook's body: a notification and whom it is for. */
export interface PushWebhookBody extends PushNotification { userId: number }

// ---------- the request table: type → params and reply data ----------

/** The v1 message types (the brief). */
export interface V1Methods {
  listLastMessage: { params: Paging; data: ChatListRow[] };
  getlatestMessageDialog: { params: { receiverId: number } & HistoryPaging; data: DialogHistoryRow[] };
  getlatestMessageGroup: { params: { groupId: number } & HistoryPaging; data: GroupHistoryRow[] };
  newGroup: { params: { groupName: string }; data: GroupCreated };
  addUserInGroup: { params: { groupId: number; userId: number }; data: null };
  leaveGroup: { params: { groupId: number }; data: null };
  messageInGroup: {
    params: { groupId: number; content: string; clientMessageId?: string; replyToId?: number; mentions?: number[]; attachments?: string[] };
    data: GroupMessageData;
  };
  privateMessage: {
    params: { receiverId: number; content: string; clientMessageId?: string; replyToId?: number; attachments?: string[] };
    data: PrivateMessageData;
  };
}

/** The message types v1.1 adds. */
export interface V11Methods {
  markRead: { params: ConversationRef & { messageId: number }; data: ReadState };
  editMessage: { params: { messageId: number; content: string }; data: EditedMessage };
  deleteMessage: { params: { messageId: number }; data: DeletedMessage };
  typing: { params: ConversationRef; data: null };
  getPresence: { params: { userIds: number[] }; data: Presence[] };
  getGroup: { params: { groupId: number }; data: GroupInfo };
  getGroupMembers: { params: { groupId: number } & Paging; data: GroupMember[] };
  renameGroup: { params: { groupId: number; groupName: string }; data: { groupId: number; groupName: string } };
  removeUserFromGroup: { params: { groupId: number; userId: number }; data: null };
  setMemberRole: { params: { groupId: number; userId: number; role: Exclude<Role, 'owner'> }; data: null };
}

/** The v1.2 message types of search and blocking. */
export interface V12SearchBlockMethods {
  searchMessages: { params: SearchParams; data: SearchHit[] };
  blockUser: { params: { userId: number }; data: null };
  unblockUser: { params: { userId: number }; data: null };
  getBlockedUsers: { params: Paging; data: BlockedUser[] };
}

/** The message types v1.2 adds (replies and mentions ride on the v1 sends). */
export interface V12Methods {
  addReaction: { params: { messageId: number; emoji: string }; data: ReactionState };
  removeReaction: { params: { messageId: number; emoji: string }; data: ReactionState };
  pinMessage: { params: { messageId: number }; data: PinState };
  unpinMessage: { params: { messageId: number }; data: PinState };
  /** The conversation's history rows (dialog or group shape), most recently pinned first. */
  getPinned: { params: ConversationRef; data: PinnedRow<DialogHistoryRow>[] | PinnedRow<GroupHistoryRow>[] };
}

/** v1.2: notifications (PROTOCOL.md "Notifications to offline devices"). */
export interface V12PushMethods {
  muteConversation: { params: ConversationRef & { until?: string | null }; data: MuteState };
  unmuteConversation: { params: ConversationRef; data: MuteState };
}

export interface Methods extends V1Methods, V11Methods, V12Methods, V12SearchBlockMethods, V12PushMethods {}
export type RequestType = keyof Methods;
export type Params<T extends RequestType> = Methods[T]['params'];
export type ReplyData<T extends RequestType> = Methods[T]['data'];

// ---------- pushes: event → data and message ----------

export interface V1Pushes {
  privateMessage: { data: PrivateMessageData; message: string };
  messageInGroup: { data: GroupMessageData & { groupName: string }; message: string };
  addUserInGroup: { data: { groupId: number; groupName: string; userId: number; userName: string }; message: string };
  leaveGroup: { data: { groupId: number; userId: number }; message: string };
  newGroup: { data: GroupCreated; message: string };
}

export interface V11Pushes {
  /** With `unreadCount` on the reader's own connections, without it on the partner's (a read receipt). */
  markRead: { data: ReadState | Omit<ReadState, 'unreadCount'>; message: null };
  editMessage: { data: EditedMessage; message: string };
  deleteMessage: { data: DeletedMessage; message: null };
  typing: { data: { userId: number; receiverId: number | null; groupId: number | null }; message: null };
  presence: { data: Presence; message: null };
  renameGroup: { data: { groupId: number; groupName: string }; message: string };
  removeUserFromGroup: { data: { groupId: number; userId: number; userName: string }; message: string };
  setMemberRole: { data: { groupId: number; userId: number; role: Role }; message: null };
}

/** v1.2 pushes of blocking: to the blocker's other connections. */
export interface V12BlockPushes {
  blockUser: { data: { userId: number }; message: null };
  unblockUser: { data: { userId: number }; message: null };
}

/** A reaction push: encoded once for everyone, so it says who acted (`userId`) and the new `count`, not `me`. */
export interface ReactionChange extends MessageRef { userId: number; emoji: string; count: number }
export interface PinChange extends MessageRef { userId: number; pinnedAt: string | null }

export interface V12Pushes {
  addReaction: { data: ReactionChange; message: null };
  removeReaction: { data: ReactionChange; message: null };
  pinMessage: { data: PinChange; message: null };
  unpinMessage: { data: PinChange; message: null };
}

export interface V12PushPushes {
  muteConversation: { data: MuteState; message: null };
  unmuteConversation: { data: MuteState; message: null };
}

export interface Pushes extends V1Pushes, V11Pushes, V12Pushes, V12BlockPushes, V12PushPushes {}
export type PushType = keyof Pushes;
export type PushData<T extends PushType> = Pushes[T]['data'];
export type PushMessage<T extends PushType> = Pushes[T]['message'];

/** A push as it arrives: the success envelope with `message` and `senderName` filled, no requestId. */
export interface PushFrame<T extends PushType = PushType> {
  type: T;
  success: true;
  params: { data: PushData<T>; message: PushMessage<T>; senderName: string };
}

// ---------- HTTP ----------

export interface User { id: number; email: string; firstName: string; lastName: string | null; createdAt: string }
export interface UserSummary { id: number; firstName: string; lastName: string | null }

export interface SignUpBody { email: string; password: string; firstName: string; lastName?: string | null }
export interface LoginBody { email: string; password: string }
export interface ProfilePatch { email?: string; firstName?: string; lastName?: string | null }
export interface PasswordChange { oldPassword: string; newPassword: string }

/**
 * v1.2: an uploaded file (`POST /files`, and each of a message's `attachments`). `url` and
 * `thumbnailUrl` are paths on the server, signed and valid for FILE_URL_TTL: fetch them without a
 * token (as an `<img src>` does); `thumbnailUrl`, `width` and `height` are null unless the file is
 * a JPEG, PNG, GIF or WebP image that decodes.
 */
export interface FileInfo {
  id: string;
  name: string;
  size: number;
  contentType: string;
  width: number | null;
  height: number | null;
  url: string;
  thumbnailUrl: string | null;
  createdAt: string;
}

export interface SignUpAnswer { user: User; token: string }
export interface LoginAnswer { message: string; token: string; user: User }
export interface TokenAnswer { token: string }
export interface HttpErrorBody { error: true; message: string; code: ErrorCode }

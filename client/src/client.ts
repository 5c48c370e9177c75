import { Emitter } from './emitter.js';
import { RelayError } from './errors.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { isExpired, TokenKeeper, type GetToken } from './token.js';
import { CatchUp } from './catchup.js';
import { checkFrame, checkParams, frameBytes, PROTOCOL_LIMITS, type Limits } from './limits.js';
import { uploadFile, type UploadData, type UploadOptions } from './upload.js';
import { fromDialogRow, fromGroupRow, type ChatMessage, type Conversation, type HistoryMessage } from './messages.js';
import type {
  CloseCodes, ConversationRef, DialogHistoryRow, ErrorFrame, FileInfo, GroupHistoryRow, HistoryPaging, Paging, Params, PushData,
  PushMessage, PushType, ReplyData, RequestType, Role, SearchParams, SuccessFrame,
} from './wire.js';

/** The server's close codes: checked against the shared wire type. */
export const CloseCode: CloseCodes = {
  GOING_AWAY: 1001, POLICY_VIOLATION: 1008, MESSAGE_TOO_BIG: 1009, TRY_AGAIN_LATER: 1013, TOKEN_EXPIRED: 4001, REVOKED: 4003,
};

/** What the client needs of a WebSocket: the browser's, or `ws`'s in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `never` parameters: the browser's and ws's handler types both fit, and we only assign.
  onopen: ((ev: never) => void) | null;
  onmessage: ((ev: never) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface RelayClientOptions {
  /** `ws://host:3000` (any path). */
  url: string;
  /** The access token from login or sign-up. */
  token: string;
  /**
   * Called with the current token for a fresh one: ahead of its expiry (a fifth of its lifetime
   * before, at most a minute), on close 4001, and before reconnecting with an expired one. E.g.
   * `(current) => http.refresh(current).then((a) => a.token)`. If it throws (other than a
   * NETWORK RelayError, retried with backoff) when a token is needed, the client closes (4001).
   */
  getToken?: GetToken;
  /** The WebSocket class; defaults to the global one (browsers, Node 22+). In Node 20 pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** The server's HTTP origin for uploads (default: `url` with ws→http, wss→https, no path). */
  httpUrl?: string;
  /** Reads and other requests: how long to wait for the reply (default 10 s). */
  requestTimeoutMs?: number;
  /** Sends: how long a send may wait for its reply, offline time included, before it rejects (default 60 s). */
  sendTimeoutMs?: number;
  /** Sends waiting (offline or unacknowledged) at most; more reject with QUEUE_FULL (default 500). */
  maxQueuedSends?: number;
  reconnect?: BackoffOptions;
  /** The protocol's bounds checked before a frame is sent (default: PROTOCOL.md's 4096 code points, 64 KiB). */
  limits?: Limits;
}

/** A push as the events carry it: the push's `params`. */
export interface PushEvent<T extends PushType> { data: PushData<T>; message: PushMessage<T>; senderName: string }

export type RelayEvents = { [T in PushType]: PushEvent<T> } & {
  /** Every state change. */
  state: ConnectionState;
  connecting: { attempt: number };
  open: { reconnected: boolean };
  reconnecting: { attempt: number; delayMs: number; code: number };
  /** For good: `close()`, 4003 (revoked), or 4001 with no `getToken` or with `getToken` failing. */
  closed: { code: number; reason: string };
  /**
   * New messages of others (and of this user's other devices), each once, in order per
   * conversation: live pushes, gap fills and what was missed while disconnected (`catchUp`).
   * This client's own sends are not repeated here: their promises resolve with them.
   */
  message: ChatMessage & { catchUp: boolean };
  /** A failure that no promise carries (a catch-up that could not run, getToken throwing). */
  error: RelayError;
};

interface Pending {
  type: string;
  resolve(data: unknown): void;
  reject(err: RelayError): void;
  timer: ReturnType<typeof setTimeout>;
  /** A send: kept until its reply, and sent again after a reconnect. */
  send?: QueuedSend;
  /** The frame as sent: after a 1009 close, the largest frames in flight are the ones refused. */
  frame?: string;
}

interface QueuedSend {
  type: 'privateMessage' | 'messageInGroup';
  params: Params<'privateMessage'> | Params<'messageInGroup'>;
  resolve(data: unknown): void;
  reject(err: RelayError): void;
  timer: ReturnType<typeof setTimeout>;
  requestId: number | undefined;
}

/** A clientMessageId: random, from getRandomValues (randomUUID needs a secure context). */
function newClientMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A Relay WebSocket client: typed requests, typed pushes, reconnects with backoff, sends that
 * are resent after a drop and stored once (clientMessageId), and catch-up of what was missed.
 */
export interface SendOptions {
  clientMessageId?: string;
  /** v1.2: files to attach (as uploadFile returned them, or their ids). */
  attachments?: readonly (FileInfo | string)[];
}

const filesOf = (opts: SendOptions): { attachments?: string[] } =>
  opts.attachments && opts.attachments.length > 0
    ? { attachments: opts.attachments.map((f) => (typeof f === 'string' ? f : f.id)) }
    : {};

export class RelayClient extends Emitter<RelayEvents> {
  private readonly opts: RelayClientOptions;
  private readonly WS: WebSocketConstructor;
  private readonly tokens: TokenKeeper;
  private readonly limits: Required<Limits>;
  private ws: WebSocketLike | undefined;
  /** The token the current socket was opened with: a 4001 on it needs a newer one. */
  private wsToken: string | undefined;
  private _state: ConnectionState = 'idle';
  private attempt = 0;
  private opened = false;
  private stopped = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Sends not yet acknowledged, in the order they were made. */
  private readonly outbox: QueuedSend[] = [];
  /** Reads made while not connected: sent once open (or timed out). */
  private readonly waiting: { type: string; params: unknown; pending: Omit<Pending, 'timer'> & { timer: ReturnType<typeof setTimeout> } }[] = [];
  private readonly catchUp = new CatchUp({
    me: () => this.userId,
    read: (type, params) => this.rawRequest(type, params),
    sending: (conv, content) => this.outbox.some((s) => s.params.content === content && sameConversation(s, conv)),
    deliver: (m) => this.emit('message', m),
    report: (err, what) => this.report(err, what),
  });

  constructor(opts: RelayClientOptions) {
    super();
    this.opts = opts;
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new TypeError('no global WebSocket: pass one (e.g. from the ws package) as options.WebSocket');
    this.WS = WS;
    this.limits = { ...PROTOCOL_LIMITS, ...opts.limits };
    this.tokens = new TokenKeeper(opts.token, opts.getToken, (err) => this.emit('error', tokenError(err, 'renewing the token before it expires')));
  }

  /** The signed-in user's id (from the token). */
  get userId(): number { return this.tokens.info.userId; }
  /** The token in use (the latest one `getToken` gave). */
  get token(): string { return this.tokens.current; }
  get state(): ConnectionState { return this._state; }
  /** Sends made and not yet acknowledged. */
  get queuedSends(): number { return this.outbox.length; }

  /** Starts connecting; resolves once open (rejects if the client is closed for good first). */
  connect(): Promise<void> {
    if (this.stopped) return Promise.reject(new RelayError('CLOSED', 'The client is closed'));
    if (this._state === 'open') return Promise.resolve();
    const ready = new Promise<void>((resolve, reject) => {
      const offOpen = this.once('open', () => { offClosed(); resolve(); });
      const offClosed = this.once('closed', (e) => { offOpen(); reject(new RelayError('CLOSED', `closed with ${e.code}: ${e.reason}`)); });
    });
    if (this._state === 'idle') {
      this.tokens.schedule();
      void this.dial();
    }
    return ready;
  }

  /** Closes for good: pending requests and queued sends reject with CLOSED. */
  close(): void {
    if (this.stopped) return;
    this.finish(1000, 'Closed by the client');
  }

  // ---------- typed requests, one per message type ----------

  listChats(p: Paging = {}) { return this.request('listLastMessage', p); }
  /** The dialog's messages as ChatMessage (newest first; `afterId`: oldest first), each with its wire row as `raw`. */
  async dialogHistory(receiverId: number, p: HistoryPaging = {}): Promise<HistoryMessage<DialogHistoryRow>[]> {
    return (await this.request('getlatestMessageDialog', { receiverId, ...p })).map((raw) => ({ ...fromDialogRow(raw), raw }));
  }
  /** The group's messages, as dialogHistory. */
  async groupHistory(groupId: number, p: HistoryPaging = {}): Promise<HistoryMessage<GroupHistoryRow>[]> {
    return (await this.request('getlatestMessageGroup', { groupId, ...p })).map((raw) => ({ ...fromGroupRow(raw), raw }));
  }
  createGroup(groupName: string) { return this.request('newGroup', { groupName }); }
  addToGroup(groupId: number, userId: number) { return this.request('addUserInGroup', { groupId, userId }); }
  leaveGroup(groupId: number) { return this.request('leaveGroup', { groupId }); }
  /** `replyToId` (v1.2): a message of this dialog to reply to; `attachments`: files from `uploadFile` (or their ids), up to 10: `content` may then be "". */
  sendPrivate(receiverId: number, content: string, opts: SendOptions & { replyToId?: number } = {}) {
    const params: Params<'privateMessage'> = { receiverId, content, clientMessageId: opts.clientMessageId ?? newClientMessageId(), ...filesOf(opts) };
    if (opts.replyToId !== undefined) params.replyToId = opts.replyToId;
    return this.send('privateMessage', params) as Promise<ReplyData<'privateMessage'>>;
  }
  /** `replyToId` (v1.2): a message of this group to reply to; `mentions`: member ids (others are dropped by the server); `attachments` as for sendPrivate. */
  sendToGroup(groupId: number, content: string, opts: SendOptions & { replyToId?: number; mentions?: number[] } = {}) {
    const params: Params<'messageInGroup'> = { groupId, content, clientMessageId: opts.clientMessageId ?? newClientMessageId(), ...filesOf(opts) };
    if (opts.replyToId !== undefined) params.replyToId = opts.replyToId;
    if (opts.mentions !== undefined) params.mentions = opts.mentions;
    return this.send('messageInGroup', params) as Promise<ReplyData<'messageInGroup'>>;
  }

  /**
   * Uploads a file (a browser File/Blob, a Node Buffer or stream) with this client's token;
   * resolves with the stored `file` to pass in `attachments`. Its `url`/`thumbnailUrl` are signed
   * paths on the server (prefix them with the server's origin outside a page it serves).
   */
  uploadFile(data: UploadData, name: string, opts: UploadOptions = {}): Promise<FileInfo> {
    const base = this.opts.httpUrl ?? this.opts.url.replace(/^ws(s?):\/\/([^/]+).*$/, 'http$1://$2');
    return uploadFile(base.replace(/\/+$/, ''), this.token, data, name, opts);
  }
  markRead(conversation: ConversationRef, messageId: number) { return this.request('markRead', { ...conversation, messageId }); }
  editMessage(messageId: number, content: string) { return this.request('editMessage', { messageId, content }); }
  deleteMessage(messageId: number) { return this.request('deleteMessage', { messageId }); }
  typing(conversation: ConversationRef) { return this.request('typing', conversation); }
  getPresence(userIds: number[]) { return this.request('getPresence', { userIds }); }
  getGroup(groupId: number) { return this.request('getGroup', { groupId }); }
  getGroupMembers(groupId: number, p: Paging = {}) { return this.request('getGroupMembers', { groupId, ...p }); }
  renameGroup(groupId: number, groupName: string) { return this.request('renameGroup', { groupId, groupName }); }
  removeFromGroup(groupId: number, userId: number) { return this.request('removeUserFromGroup', { groupId, userId }); }
  setMemberRole(groupId: number, userId: number, role: Exclude<Role, 'owner'>) { return this.request('setMemberRole', { groupId, userId, role }); }
  /** v1.2: messages whose words begin with every word of `query`; in one conversation if `receiverId` or `groupId` is given. */
  searchMessages(query: string, opts: Omit<SearchParams, 'query'> = {}) { return this.request('searchMessages', { query, ...opts }); }
  blockUser(userId: number) { return this.request('blockUser', { userId }); }
  unblockUser(userId: number) { return this.request('unblockUser', { userId }); }
  getBlockedUsers(p: Paging = {}) { return this.request('getBlockedUsers', p); }
  addReaction(messageId: number, emoji: string) { return this.request('addReaction', { messageId, emoji }); }
  removeReaction(messageId: number, emoji: string) { return this.request('removeReaction', { messageId, emoji }); }
  pinMessage(messageId: number) { return this.request('pinMessage', { messageId }); }
  unpinMessage(messageId: number) { return this.request('unpinMessage', { messageId }); }
  /** The conversation's pinned messages as its history rows (plus pinnedAt, pinnedBy), most recently pinned first. */
  getPinned(conversation: ConversationRef) { return this.request('getPinned', conversation); }
  /**
   * v1.2: no notifications about this conversation to this user's offline devices (mentions
   * still notify) until `until` (a Date or ISO time, within a year) or, without one, until
   * `unmute`. This user's other connections get the `muteConversation` event.
   */
  mute(conversation: ConversationRef, until?: Date | string | null) {
    const at = until instanceof Date ? until.toISOString() : until ?? null;
    return this.request('muteConversation', { ...conversation, until: at });
  }
  unmute(conversation: ConversationRef) { return this.request('unmuteConversation', conversation); }

  /**
   * Any request by its type. Made while disconnected, it waits for the connection (within its
   * time limit); if the socket drops before the reply it rejects with DISCONNECTED (not resent:
   * only sends are). Use sendPrivate/sendToGroup for sends: they are resent safely.
   */
  request<T extends RequestType>(type: T, params: Params<T>): Promise<ReplyData<T>> {
    if (this.stopped) return Promise.reject(new RelayError('CLOSED', 'The client is closed', type));
    const invalid = this.refuse(type, params);
    if (invalid) return Promise.reject(invalid);
    return new Promise<ReplyData<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.findIndex((w) => w.pending.timer === timer);
        if (i >= 0) this.waiting.splice(i, 1);
        for (const [id, p] of this.pending) if (p.timer === timer) this.pending.delete(id);
        reject(new RelayError('TIMEOUT', `No reply to ${type} within ${this.requestTimeout} ms`, type));
      }, this.requestTimeout);
      const pending = {
        type, reject, timer,
        resolve: (d: unknown) => { this.catchUp.onReply(type, params, d); resolve(d as ReplyData<T>); },
      };
      if (this._state === 'open') this.transmit(type, params, pending);
      else this.waiting.push({ type, params, pending });
    });
  }

  private get requestTimeout(): number { return this.opts.requestTimeoutMs ?? 10_000; }

  /**
   * Why a request can never be sent or accepted (over the protocol's bounds), or undefined. A frame
   * over the server's cap would close the socket (1009) instead of being answered: it never leaves.
   */
  private refuse(type: string, params: unknown): RelayError | undefined {
    return checkParams(type, params, this.limits)
      // The largest requestId this client can give: the frame is measured as it will be sent.
      ?? checkFrame(type, JSON.stringify({ type, params, requestId: Number.MAX_SAFE_INTEGER }), this.limits);
  }

  private send(type: QueuedSend['type'], params: QueuedSend['params']): Promise<unknown> {
    if (this.stopped) return Promise.reject(new RelayError('CLOSED', 'The client is closed', type));
    const max = this.opts.maxQueuedSends ?? 500;
    const invalid = this.refuse(type, params);
    if (invalid) return Promise.reject(invalid);
    if (this.outbox.length >= max) return Promise.reject(new RelayError('QUEUE_FULL', `${max} sends are already waiting`, type));
    return new Promise((resolve, reject) => {
      const timeoutMs = this.opts.sendTimeoutMs ?? 60_000;
      const entry: QueuedSend = {
        type, params, requestId: undefined,
        resolve: (d) => { this.catchUp.onSent(type, d as ReplyData<typeof type>); resolve(d); },
        reject,
        timer: setTimeout(() => {
          this.dropSend(entry);
          reject(new RelayError('TIMEOUT', `${type} not acknowledged within ${timeoutMs} ms`, type));
        }, timeoutMs),
      };
      this.outbox.push(entry);
      if (this._state === 'open') this.transmitSend(entry);
    });
  }

  private dropSend(entry: QueuedSend): void {
    const i = this.outbox.indexOf(entry);
    if (i >= 0) this.outbox.splice(i, 1);
    if (entry.requestId !== undefined) this.pending.delete(entry.requestId);
  }

  private transmitSend(entry: QueuedSend): void {
    entry.requestId = this.transmit(entry.type, entry.params, {
      type: entry.type, timer: entry.timer, send: entry,
      resolve: (d) => { clearTimeout(entry.timer); this.dropSend(entry); entry.resolve(d); },
      reject: (e) => { clearTimeout(entry.timer); this.dropSend(entry); entry.reject(e); },
    });
  }

  private transmit(type: string, params: unknown, pending: Pending): number {
    const requestId = this.nextId++;
    const frame = JSON.stringify({ type, params, requestId });
    this.pending.set(requestId, { ...pending, frame });
    this.ws!.send(frame);
    return requestId;
  }

  // ---------- connection ----------

  private setState(s: ConnectionState): void {
    if (this._state === s) return;
    this._state = s;
    this.emit('state', s);
  }

  private async dial(needToken = false): Promise<void> {
    if (this.stopped) return;
    this.setState(this.opened ? 'reconnecting' : 'connecting');
    this.emit('connecting', { attempt: this.attempt });
    if (!this.tokens.canRenew) {
      // An expired token gets a 401 to the upgrade: without a way to a fresh one, retrying is pointless.
      if (isExpired(this.tokens.info, 0)) return this.finish(CloseCode.TOKEN_EXPIRED, 'Token expired');
    } else if (needToken || isExpired(this.tokens.info)) {
      try {
        await this.tokens.renew();
      } catch (err) {
        const e = tokenError(err, 'getToken failed');
        this.emit('error', e);
        if (this.stopped) return;
        // The server (or the network) is down: it is worth trying again, like a dropped socket.
        if (e.code === 'NETWORK') return this.scheduleReconnect(CloseCode.TOKEN_EXPIRED);
        // Any other failure will not heal by itself: end in a clear state instead of looping.
        return this.finish(CloseCode.TOKEN_EXPIRED, e.message, new RelayError('UNAUTHORIZED', `${e.message}: the client is closed`));
      }
      if (this.stopped) return;
    }
    let ws: WebSocketLike;
    try {
      this.wsToken = this.tokens.current;
      ws = new this.WS(this.opts.url, ['auth', this.tokens.current]);
    } catch (err) {
      this.emit('error', new RelayError('NETWORK', err instanceof Error ? err.message : String(err)));
      return this.scheduleReconnect(1006);
    }
    this.ws = ws;
    ws.onopen = () => this.onOpen(ws);
    ws.onmessage = ((ev: { data: unknown }) => this.onFrame(ev.data)) as (ev: never) => void;
    ws.onclose = ((ev: { code: number; reason: string }) => this.onClose(ws, ev.code, ev.reason)) as (ev: never) => void;
    // An error is followed by a close event: handled there.
    ws.onerror = () => undefined;
  }

  private onOpen(ws: WebSocketLike): void {
    if (ws !== this.ws) return;
    const reconnected = this.opened;
    this.opened = true;
    this.attempt = 0;
    // Where catch-up starts: before the resent sends' replies move the markers past what was missed.
    const from = reconnected ? this.catchUp.mark() : [];
    this.setState('open');
    // Unacknowledged and offline sends first, in their order; then the reads that waited.
    for (const entry of this.outbox) this.transmitSend(entry);
    for (const w of this.waiting.splice(0)) this.transmit(w.type, w.params, w.pending);
    this.catchUp.start(from);
    this.emit('open', { reconnected });
  }

  private onClose(ws: WebSocketLike, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    if (code === CloseCode.MESSAGE_TOO_BIG) this.refuseTooBig();
    for (const [id, p] of this.pending) {
      if (p.send) continue; // stays in the outbox, resent after the reconnect
      clearTimeout(p.timer);
      p.reject(new RelayError('DISCONNECTED', `Connection closed (${code}) before the reply to ${p.type}`, p.type));
      this.pending.delete(id);
    }
    this.pending.clear();
    for (const entry of this.outbox) entry.requestId = undefined;
    if (this.stopped) return;
    if (code === CloseCode.REVOKED) return this.finish(code, reason || 'Token revoked');
    if (code === CloseCode.TOKEN_EXPIRED) {
      if (!this.tokens.canRenew) return this.finish(code, reason || 'Token expired');
      // Straight back, with a fresh token: the one renewed ahead of expiry, else one asked now.
      const stale = this.tokens.current === this.wsToken;
      this.setState('reconnecting');
      this.emit('reconnecting', { attempt: this.attempt, delayMs: 0, code });
      void this.dial(stale);
      return;
    }
    this.scheduleReconnect(code);
  }

  /**
   * After a 1009 close: the server refused a frame in flight as too big. Resending it would only
   * close the socket again, so the largest frames in flight (the refused one is among them, and
   * any at least as large is over the cap too) reject with PAYLOAD_TOO_LARGE and are not resent.
   */
  private refuseTooBig(): void {
    const sizes = new Map([...this.pending].map(([id, p]) => [id, frameBytes(p.frame ?? '')]));
    const largest = Math.max(0, ...sizes.values());
    for (const [id, p] of this.pending) {
      if (sizes.get(id) !== largest) continue;
      this.pending.delete(id);
      const err = new RelayError('PAYLOAD_TOO_LARGE', `the server closed the connection (1009): the ${p.type} frame of ${largest} bytes is over its cap`, p.type);
      if (p.send) this.dropSend(p.send);
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  private scheduleReconnect(code: number): void {
    if (this.stopped) return;
    const delayMs = backoffDelay(this.attempt, this.opts.reconnect);
    this.attempt++;
    this.setState('reconnecting');
    this.emit('reconnecting', { attempt: this.attempt, delayMs, code });
    this.reconnectTimer = setTimeout(() => { this.reconnectTimer = undefined; void this.dial(); }, delayMs);
  }

  private finish(code: number, reason: string, err = new RelayError('CLOSED', `The client is closed (${code}: ${reason})`)): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.tokens.stop();
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState <= 1) ws.close(1000, 'Client closed');
    for (const p of this.pending.values()) { clearTimeout(p.timer); if (!p.send) p.reject(err); }
    this.pending.clear();
    for (const w of this.waiting.splice(0)) { clearTimeout(w.pending.timer); w.pending.reject(err); }
    for (const s of this.outbox.splice(0)) { clearTimeout(s.timer); s.reject(err); }
    this.setState('closed');
    this.emit('closed', { code, reason });
  }

  /**
   * A background failure. Not one of a dropped socket: the markers did not move, so the next
   * reconnect's catch-up fetches the same messages again.
   */
  private report(err: unknown, what: string): void {
    const e = asRelayError(err, what);
    if (e.code !== 'DISCONNECTED' && e.code !== 'CLOSED') this.emit('error', e);
  }

  // ---------- incoming frames ----------

  private onFrame(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let frame: (SuccessFrame | ErrorFrame) & { requestId?: unknown };
    try {
      frame = JSON.parse(raw) as SuccessFrame | ErrorFrame;
    } catch {
      return;
    }
    if (typeof frame.requestId === 'number') {
      const p = this.pending.get(frame.requestId);
      if (!p) return;
      this.pending.delete(frame.requestId);
      clearTimeout(p.timer);
      if ('error' in frame && frame.error) p.reject(new RelayError(frame.code, frame.message, frame.type, undefined, frame.retryAfterMs));
      else p.resolve((frame as SuccessFrame).params.data);
      return;
    }
    if ('success' in frame && frame.success && frame.requestId === undefined) this.onPush(frame);
  }

  private onPush(frame: SuccessFrame): void {
    const type = frame.type as PushType;
    const event = frame.params as PushEvent<PushType>;
    this.catchUp.onPush(type, event.data, event.senderName);
    this.emit(type, event as never);
  }

  /** A request whose reply is not fed to catch-up's bookkeeping (catch-up reads do their own). */
  private rawRequest<T extends RequestType>(type: T, params: Params<T>): Promise<ReplyData<T>> {
    return new Promise((resolve, reject) => {
      if (this._state !== 'open') return reject(new RelayError('DISCONNECTED', 'not connected', type));
      const timer = setTimeout(() => reject(new RelayError('TIMEOUT', `No reply to ${type}`, type)), this.requestTimeout);
      this.transmit(type, params, { type, timer, resolve: resolve as (d: unknown) => void, reject });
    });
  }
}

function sameConversation(s: QueuedSend, conv: Conversation): boolean {
  return conv.kind === 'dialog'
    ? 'receiverId' in s.params && s.params.receiverId === conv.peerId
    : 'groupId' in s.params && s.params.groupId === conv.groupId;
}

/** A getToken failure as a RelayError: NETWORK stays NETWORK (worth retrying), the rest is UNAUTHORIZED. */
function tokenError(err: unknown, what: string): RelayError {
  const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  return new RelayError(err instanceof RelayError && err.code === 'NETWORK' ? 'NETWORK' : 'UNAUTHORIZED', message);
}

function asRelayError(err: unknown, what: string): RelayError {
  return err instanceof RelayError ? err : new RelayError('INTERNAL', `${what}: ${err instanceof Error ? err.message : String(err)}`);
}

import { applyReaction, type ChatMessage, type ConversationRef, type FileInfo, type ReactionChange, type RelayClient, type Role } from 'relay-client';
import { h, timeOf, describe, KeyedList } from './dom.js';
import { attachmentsView } from './files.js';
import { actionBar, closeActions, openOnLongPress, type MessageAction } from './messageActions.js';
import { reactionChips, reactionPicker } from './reactions.js';
import { ReplyBar, refreshedQuote, replyQuote } from './replies.js';
import { PinnedBar } from './pins.js';
import type { Mentionable } from './mentions.js';

export type Active = { kind: 'dialog'; peerId: number; name: string } | { kind: 'group'; groupId: number; name: string };

export interface UiMessage extends ChatMessage {
  /** `m<id>` once stored, `p<n>` while pending. */
  key: string;
  status: 'pending' | 'sent' | 'failed';
  error?: string;
}

export const refOf = (a: Active): ConversationRef => (a.kind === 'dialog' ? { receiverId: a.peerId } : { groupId: a.groupId });

export const belongsTo = (m: Pick<ChatMessage, 'senderId' | 'receiverId' | 'groupId'>, a: Active, me: number): boolean =>
  a.kind === 'group'
    ? m.groupId === a.groupId
    : m.groupId === null && ((m.senderId === a.peerId && m.receiverId === me) || (m.senderId === me && m.receiverId === a.peerId));

const PAGE = 30;

/**
 * One open conversation: its messages (oldest first, pending sends last), paging back on scroll,
 * sending (pending → sent), editing and deleting, read receipts.
 */
export class ConversationView {
  readonly list = h('ol', { class: 'messages', 'aria-label': 'Messages', tabindex: 0 });
  messages: UiMessage[] = [];
  peerLastReadId = 0;
  myLastReadId = 0;
  private hasMore = true;
  private loading = false;
  private pendingSeq = 0;
  private readonly drawn = new KeyedList<UiMessage>(this.list, (m) => m.key, (m) => this.lookOf(m), (m) => this.item(m));
  /** v1.2: the message being replied to, shown above the composer. */
  readonly replyBar = new ReplyBar(() => this.render(false));
  readonly pins: PinnedBar;
  /** The caller's role in a group (pins need owner or admin); set once the group is read. */
  role: Role | null = null;
  /** The group's members, for `@` suggestions and names. */
  members: readonly Mentionable[] = [];
  /** Which members the composer's text mentions (the MentionPicker's, in a group). */
  mentionsFor: (text: string) => number[] = () => [];
  /** The message whose reaction picker is open. */
  private pickerFor: number | undefined;

  constructor(
    readonly active: Active,
    private readonly client: RelayClient,
    private readonly me: number,
    /** onChanged: the chat list should be re-read (a read marker moved, a message was sent). */
    private readonly hooks: { onError(err: unknown): void; onEdit(m: UiMessage): void; onChanged(): void },
  ) {
    this.list.addEventListener('scroll', () => { if (this.list.scrollTop < 40) void this.loadOlder(); });
    this.pins = new PinnedBar(client, refOf(active), {
      jump: (id) => void this.jumpTo(id), canPin: () => this.canPin(), onError: (err) => hooks.onError(err), onChanged: () => this.render(false),
    });
  }

  /** Either side of a dialog pins; in a group its owner and admins (PROTOCOL.md v1.2). */
  canPin(): boolean {
    return this.active.kind === 'dialog' || this.role === 'owner' || this.role === 'admin';
  }

  /** The newest page; then marks it read. */
  async load(): Promise<void> {
    const rows = await this.fetch();
    this.messages = rows.map((m) => ({ ...m, key: `m${m.id}`, status: 'sent' as const }));
    this.hasMore = rows.length === PAGE;
    this.render(true);
    this.markRead();
  }

  private async fetch(beforeId?: number): Promise<ChatMessage[]> {
    const paging = { limit: PAGE, ...(beforeId ? { beforeId } : {}) };
    const a = this.active;
    const rows = a.kind === 'dialog' ? await this.client.dialogHistory(a.peerId, paging) : await this.client.groupHistory(a.groupId, paging);
    // The SDK's ChatMessage, without the wire row it keeps in `raw`: the view holds one shape.
    return rows.map(({ raw: _raw, ...m }): ChatMessage => m).reverse();
  }

  /** Older messages when scrolled to the top; the view stays where it was. */
  async loadOlder(): Promise<boolean> {
    const oldest = this.messages.find((m) => m.status === 'sent');
    if (!this.hasMore || this.loading || !oldest) return false;
    this.loading = true;
    try {
      const rows = await this.fetch(oldest.id);
      this.hasMore = rows.length === PAGE;
      const before = this.list.scrollHeight;
      const known = new Set(this.messages.map((m) => m.id));
      this.messages = [...rows.filter((m) => !known.has(m.id)).map((m) => ({ ...m, key: `m${m.id}`, status: 'sent' as const })), ...this.messages];
      this.render(false);
      this.list.scrollTop += this.list.scrollHeight - before;
      return rows.length > 0;
    } catch (err) {
      this.hooks.onError(err);
      return false;
    } finally {
      this.loading = false;
    }
  }

  /** Scrolls to a message (a reply's original, a pinned one), reading older pages until it is loaded. */
  async jumpTo(id: number): Promise<void> {
    for (let pages = 0; !this.messages.some((m) => m.id === id && m.status === 'sent') && pages < 50; pages++) {
      if (!(await this.loadOlder())) break;
    }
    const el = this.list.querySelector<HTMLElement>(`li[data-id="${id}"]`);
    if (!el) return this.hooks.onError(new Error('That message is no longer in this conversation'));
    el.scrollIntoView({ block: 'center' });
    el.classList.add('flash');
    el.focus({ preventScroll: true });
    setTimeout(() => el.classList.remove('flash'), 1500);
  }

  /** A message that arrived (push or catch-up): added once, in id order. */
  add(m: ChatMessage): void {
    if (this.messages.some((x) => x.id === m.id && x.status === 'sent')) return;
    const stored = this.messages.filter((x) => x.status === 'sent');
    const pending = this.messages.filter((x) => x.status !== 'sent');
    stored.push({ ...m, key: `m${m.id}`, status: 'sent' });
    stored.sort((x, y) => x.id - y.id);
    this.messages = [...stored, ...pending];
    this.render(this.atBottom());
    this.markRead();
  }

  update(id: number, patch: Partial<ChatMessage>): void {
    const m = this.messages.find((x) => x.id === id && x.status === 'sent');
    if (m) Object.assign(m, patch);
    // Quotes show the replied-to message as it is now.
    for (const x of this.messages) if (x.replyTo?.id === id && (patch.content !== undefined || patch.deletedAt !== undefined)) {
      x.replyTo = refreshedQuote(x.replyTo, { content: patch.content ?? x.replyTo.content, deletedAt: patch.deletedAt ?? x.replyTo.deletedAt });
    }
    if (patch.deletedAt && this.pins.has(id)) this.pins.load().catch((err: unknown) => this.hooks.onError(err));
    this.render(false);
  }

  /** A reaction push: counts from it, `me` kept from what this user did (the push is the same for everyone). */
  applyReaction(type: 'addReaction' | 'removeReaction', change: ReactionChange): void {
    const m = this.messages.find((x) => x.id === change.messageId && x.status === 'sent');
    if (!m) return;
    m.reactions = applyReaction(m.reactions, type, change, this.me);
    this.render(false);
  }

  private react(m: UiMessage, emoji: string, mine: boolean): void {
    const work = mine ? this.client.removeReaction(m.id, emoji) : this.client.addReaction(m.id, emoji);
    work.then((state) => { m.reactions = state.reactions; this.render(false); }, (err: unknown) => this.hooks.onError(err));
  }

  startReply(m: UiMessage): void {
    this.replyBar.set(m, m.senderId === this.me ? 'yourself' : m.senderName ?? `#${m.senderId}`);
    closeActions();
    document.getElementById('composer')?.focus();
  }

  async send(content: string, attachments: FileInfo[] = []): Promise<void> {
    const a = this.active;
    const replyToId = this.replyBar.target?.id;
    const mentions = a.kind === 'group' ? this.mentionsFor(content) : [];
    this.replyBar.clear();
    const temp: UiMessage = {
      key: `p${++this.pendingSeq}`, id: 0, seq: null, senderId: this.me, senderName: null,
      receiverId: a.kind === 'dialog' ? a.peerId : null, groupId: a.kind === 'group' ? a.groupId : null,
      content, createdAt: new Date().toISOString(), editedAt: null, deletedAt: null, status: 'pending',
      replyTo: null, mentions, reactions: [], attachments,
    };
    this.messages.push(temp);
    this.render(true);
    try {
      const stored = a.kind === 'dialog'
        ? await this.client.sendPrivate(a.peerId, content, { replyToId, attachments })
        : await this.client.sendToGroup(a.groupId, content, { replyToId, mentions, attachments });
      this.messages = this.messages.filter((x) => x !== temp && !(x.id === stored.id && x.status === 'sent'));
      // Sending moves the sender's own read marker (PROTOCOL.md): no markRead for it.
      this.myLastReadId = Math.max(this.myLastReadId, stored.id);
      this.add({ ...temp, id: stored.id, seq: stored.seq ?? null, createdAt: stored.createdAt, replyTo: stored.replyTo ?? null, mentions: stored.mentions ?? [],
        attachments: stored.attachments ?? attachments });
      this.hooks.onChanged();
    } catch (err) {
      temp.status = 'failed';
      temp.error = describe(err);
      this.render(false);
      this.hooks.onError(err);
    }
  }

  async edit(id: number, content: string): Promise<void> {
    const m = await this.client.editMessage(id, content);
    this.update(id, { content: m.content, editedAt: m.editedAt });
  }

  async remove(id: number): Promise<void> {
    const m = await this.client.deleteMessage(id);
    this.update(id, { content: '', deletedAt: m.deletedAt, attachments: [] });
  }

  /** Moves the read marker to the newest stored message while the page is visible. */
  markRead(): void {
    const newest = [...this.messages].reverse().find((m) => m.status === 'sent');
    if (!newest || newest.id <= this.myLastReadId || document.visibilityState !== 'visible') return;
    this.myLastReadId = newest.id;
    this.client.markRead(refOf(this.active), newest.id).then(() => this.hooks.onChanged(), (err: unknown) => this.hooks.onError(err));
  }

  setPeerRead(id: number): void {
    if (id <= this.peerLastReadId) return;
    this.peerLastReadId = id;
    this.render(false);
  }

  private atBottom(): boolean {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 60;
  }

  render(scrollToEnd: boolean): void {
    this.drawn.render(this.messages, () => h('li', { class: 'empty' }, 'No messages yet. Say hello!'));
    if (scrollToEnd) this.list.scrollTop = this.list.scrollHeight;
  }

  /** Everything `item` draws a message from. */
  private lookOf(m: UiMessage): string {
    const read = this.active.kind === 'dialog' && m.id <= this.peerLastReadId;
    return JSON.stringify([m.id, m.status, m.error, m.content, m.editedAt, m.deletedAt, m.createdAt, m.senderName, read,
      m.replyTo, m.mentions, m.reactions, this.pins.has(m.id), this.canPin(), this.pickerFor === m.id, m.attachments.map((f) => f.id)]);
  }

  private item(m: UiMessage): HTMLElement {
    const mine = m.senderId === this.me;
    const deleted = m.deletedAt !== null;
    let status: HTMLElement | null = null;
    if (mine) {
      const [text, label] = m.status === 'pending' ? ['🕓', 'Sending']
        : m.status === 'failed' ? ['⚠', `Not sent: ${m.error ?? ''}`]
        : this.active.kind === 'dialog' && m.id <= this.peerLastReadId ? ['✓✓', 'Read'] : ['✓', 'Sent'];
      status = h('span', { class: `status ${m.status}${label === 'Read' ? ' read' : ''}`, title: label, 'aria-label': label, 'data-status': label.split(':')[0]!.toLowerCase() }, text);
    }
    const sent = m.status === 'sent';
    const li = h('li', {
      class: `msg ${mine ? 'mine' : 'theirs'}${deleted ? ' deleted' : ''}${m.mentions.includes(this.me) ? ' mentions-me' : ''}`,
      'data-id': sent ? m.id : null, 'data-key': m.key, tabindex: sent ? 0 : null,
    },
    !mine && this.active.kind === 'group' ? h('span', { class: 'who' }, m.senderName ?? `#${m.senderId}`) : null,
    m.replyTo ? replyQuote(m.replyTo, (id) => void this.jumpTo(id)) : null,
    deleted || m.content !== '' ? h('span', { class: 'text' }, deleted ? 'Message deleted' : m.content) : null,
    deleted ? null : attachmentsView(m.attachments),
    h('span', { class: 'meta' },
      this.pins.has(m.id) ? h('span', { class: 'pinned-mark', title: 'Pinned', 'aria-label': 'Pinned' }, '📌') : null,
      m.editedAt && !deleted ? h('span', { class: 'edited' }, 'edited') : null,
      h('time', { datetime: m.createdAt }, timeOf(m.createdAt)),
      status),
    sent && !deleted ? reactionChips(m.reactions, (emoji, isMine) => this.react(m, emoji, isMine)) : null,
    sent && !deleted ? actionBar(this.actionsOf(m)) : null,
    this.pickerFor === m.id ? reactionPicker((emoji) => this.react(m, emoji, m.reactions.some((r) => r.emoji === emoji && r.me)),
      () => { this.pickerFor = undefined; this.render(false); }) : null);
    if (sent && !deleted) openOnLongPress(li);
    return li;
  }

  /** Reply, react and pin for every stored message; edit and delete for one's own. */
  private actionsOf(m: UiMessage): MessageAction[] {
    const actions: MessageAction[] = [
      { label: '↩', aria: 'Reply', run: () => this.startReply(m) },
      { label: '☺', aria: 'React', run: () => { this.pickerFor = this.pickerFor === m.id ? undefined : m.id; this.render(false);
        this.list.querySelector<HTMLElement>(`li[data-id="${m.id}"] .picker button`)?.focus(); } },
    ];
    if (this.canPin()) {
      const pinned = this.pins.has(m.id);
      actions.push({ label: pinned ? 'Unpin' : '📌', aria: pinned ? 'Unpin message' : 'Pin message',
        run: () => { this.pins.toggle(m.id).catch((err: unknown) => this.hooks.onError(err)); } });
    }
    if (m.senderId === this.me) {
      actions.push({ label: 'Edit', aria: 'Edit message', run: () => this.hooks.onEdit(m) });
      actions.push({ label: 'Delete', aria: 'Delete message', danger: true,
        run: () => { this.remove(m.id).catch((err: unknown) => this.hooks.onError(err)); } });
    }
    return actions;
  }
}

import type { ChatMessage, ConversationRef, FileInfo, RelayClient } from 'relay-client';
import { h, timeOf, describe, KeyedList } from './dom.js';
import { attachmentsView } from './files.js';

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

  constructor(
    readonly active: Active,
    private readonly client: RelayClient,
    private readonly me: number,
    /** onChanged: the chat list should be re-read (a read marker moved, a message was sent). */
    private readonly hooks: { onError(err: unknown): void; onEdit(m: UiMessage): void; onChanged(): void },
  ) {
    this.list.addEventListener('scroll', () => { if (this.list.scrollTop < 40) void this.loadOlder(); });
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
    const rows = a.kind === 'dialog'
      ? (await this.client.dialogHistory(a.peerId, paging)).map((r): ChatMessage => ({
          id: r.id, seq: r.seq ?? null, senderId: r.sender_id, senderName: r.senderName, receiverId: r.receiver_id, groupId: null,
          content: r.content, createdAt: r.created_at, editedAt: r.editedAt ?? null, deletedAt: r.deletedAt ?? null,
          attachments: r.attachments ?? [],
        }))
      : (await this.client.groupHistory(a.groupId, paging)).map((r): ChatMessage => ({
          id: r.id, seq: r.seq ?? null, senderId: r.sender_id, senderName: r.senderName, receiverId: null, groupId: r.group_id,
          content: r.content, createdAt: r.created_at, editedAt: r.editedAt ?? null, deletedAt: r.deletedAt ?? null,
          attachments: r.attachments ?? [],
        }));
    return rows.reverse();
  }

  /** Older messages when scrolled to the top; the view stays where it was. */
  async loadOlder(): Promise<void> {
    const oldest = this.messages.find((m) => m.status === 'sent');
    if (!this.hasMore || this.loading || !oldest) return;
    this.loading = true;
    try {
      const rows = await this.fetch(oldest.id);
      this.hasMore = rows.length === PAGE;
      const before = this.list.scrollHeight;
      const known = new Set(this.messages.map((m) => m.id));
      this.messages = [...rows.filter((m) => !known.has(m.id)).map((m) => ({ ...m, key: `m${m.id}`, status: 'sent' as const })), ...this.messages];
      this.render(false);
      this.list.scrollTop += this.list.scrollHeight - before;
    } catch (err) {
      this.hooks.onError(err);
    } finally {
      this.loading = false;
    }
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
    if (!m) return;
    Object.assign(m, patch);
    this.render(false);
  }

  async send(content: string, attachments: FileInfo[] = []): Promise<void> {
    const a = this.active;
    const temp: UiMessage = {
      key: `p${++this.pendingSeq}`, id: 0, seq: null, senderId: this.me, senderName: null,
      receiverId: a.kind === 'dialog' ? a.peerId : null, groupId: a.kind === 'group' ? a.groupId : null,
      content, createdAt: new Date().toISOString(), editedAt: null, deletedAt: null, status: 'pending', attachments,
    };
    this.messages.push(temp);
    this.render(true);
    try {
      const stored = a.kind === 'dialog'
        ? await this.client.sendPrivate(a.peerId, content, { attachments })
        : await this.client.sendToGroup(a.groupId, content, { attachments });
      this.messages = this.messages.filter((x) => x !== temp && !(x.id === stored.id && x.status === 'sent'));
      // Sending moves the sender's own read marker (PROTOCOL.md): no markRead for it.
      this.myLastReadId = Math.max(this.myLastReadId, stored.id);
      this.add({ ...temp, id: stored.id, seq: stored.seq ?? null, createdAt: stored.createdAt, attachments: stored.attachments ?? attachments });
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
    return JSON.stringify([m.id, m.status, m.error, m.content, m.editedAt, m.deletedAt, m.createdAt, m.senderName, read, m.attachments.map((f) => f.id)]);
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
    const actions = mine && m.status === 'sent' && !deleted
      ? h('span', { class: 'actions' },
          h('button', { type: 'button', class: 'small', 'aria-label': 'Edit message', onclick: () => this.hooks.onEdit(m) }, 'Edit'),
          h('button', { type: 'button', class: 'small danger', 'aria-label': 'Delete message',
            onclick: () => { this.remove(m.id).catch((err: unknown) => this.hooks.onError(err)); } }, 'Delete'))
      : null;
    return h('li', { class: `msg ${mine ? 'mine' : 'theirs'}${deleted ? ' deleted' : ''}`, 'data-id': m.status === 'sent' ? m.id : null, 'data-key': m.key },
      !mine && this.active.kind === 'group' ? h('span', { class: 'who' }, m.senderName ?? `#${m.senderId}`) : null,
      deleted || m.content !== '' ? h('span', { class: 'text' }, deleted ? 'Message deleted' : m.content) : null,
      deleted ? null : attachmentsView(m.attachments),
      h('span', { class: 'meta' },
        m.editedAt && !deleted ? h('span', { class: 'edited' }, 'edited') : null,
        h('time', { datetime: m.createdAt }, timeOf(m.createdAt)),
        status),
      actions);
  }
}

import type { ChatListRow, ConnectionState, RelayClient, RelayHttp, User } from 'relay-client';
import { UploadTray, filesOf } from './files.js';
import { h, clear, describe, timeOf, KeyedList } from './dom.js';
import { ConversationView, belongsTo, refOf, type Active, type UiMessage } from './conversation.js';
import { membersPanel } from './members.js';
import { MessageSearch, revealMessage } from './search.js';
import { Blocking } from './blocking.js';
import { MentionPicker } from './mentions.js';
import { muteMenu, mutedMark } from './mute.js';
import { notificationsSwitch, onOpenChat, registerWorker } from './notifications.js';

const STATE_TEXT: Record<ConnectionState, string> = {
  idle: 'Offline', connecting: 'Connecting…', open: 'Online', reconnecting: 'Reconnecting…', closed: 'Disconnected',
};

/** How long "typing…" shows after a push (PROTOCOL.md), and how often we send ours per conversation. */
const TYPING_SHOW_MS = 5000;
const TYPING_SEND_MS = 2000;

interface ChatRowView { a: Active; current: boolean; last: string; createdAt: string; unread: number; mentions: number; muted: boolean }

/** A chat's key in the list (and its `data-chat`). */
const chatKey = (a: Active): string => (a.kind === 'group' ? `g${a.groupId}` : `d${a.peerId}`);

/** The signed-in screen: chat list, people search, new group, the open conversation, members. */
export class ChatApp {
  readonly root: HTMLElement;
  private readonly stateBadge = h('span', { class: 'state', role: 'status', 'aria-live': 'polite' }, 'Connecting…');
  private readonly errorBar = h('p', { class: 'error banner', role: 'alert', hidden: true });
  private readonly chatList = h('ul', { class: 'chats', 'aria-label': 'Chats' });
  private readonly chatRows = new KeyedList<ChatRowView>(this.chatList, (v) => chatKey(v.a), (v) => JSON.stringify(v), (v) => this.chatRow(v));
  private readonly searchResults = h('ul', { class: 'results', 'aria-label': 'People found' });
  private readonly pane = h('section', { class: 'pane', 'aria-label': 'Conversation' });
  private chats: ChatListRow[] = [];
  private view: ConversationView | undefined;
  private editing: UiMessage | undefined;
  /** The open conversation's files being attached (uploads cancelled when it closes). */
  private tray: UploadTray | undefined;
  private typers = new Map<number, { name: string; until: number }>();
  private typingTimer: ReturnType<typeof setInterval>;
  /** When we last announced typing, per conversation (chatKey): the server throttles per conversation too. */
  private readonly lastTypingSent = new Map<string, number>();
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private showMembers = false;
  private searchSeq = 0;
  /** A chat to open once the chat list is known (`#d12` / `#g5`: a clicked notification's link). */
  private wanted: string | undefined = /^#[dg]\d+$/.test(location.hash) ? location.hash.slice(1) : undefined;
  private readonly searchInput = h('input', { type: 'search', placeholder: 'Find people by name or email', 'aria-label': 'Find people', id: 'search' });
  private readonly blocking: Blocking;
  private readonly messageSearch: MessageSearch;

  constructor(
    private readonly client: RelayClient,
    private readonly http: RelayHttp,
    private readonly token: () => string,
    private readonly me: User,
    private readonly logout: (message?: string) => void,
  ) {
    // A block changed (here or on another device): the open dialog with that user is redrawn.
    this.blocking = new Blocking(client, (userId) => {
      const a = this.view?.active;
      if (a?.kind === 'dialog' && a.peerId === userId) this.renderPane();
    });
    this.messageSearch = new MessageSearch(client, me.id, (a, id) => void this.open(a, id), (err) => this.error(err));
    const search = this.searchInput;
    search.addEventListener('input', () => this.search(search.value.trim()));
    const groupName = h('input', { type: 'text', placeholder: 'New group name', 'aria-label': 'New group name', maxlength: 100, id: 'new-group', required: true });
    const groupForm = h('form', { class: 'row', onsubmit: (ev: Event) => {
      ev.preventDefault();
      const name = groupName.value.trim();
      if (!name) return;
      this.client.createGroup(name).then((g) => {
        groupName.value = '';
        this.refreshChats();
        void this.open({ kind: 'group', groupId: g.groupId, name: g.groupName });
      }, (err: unknown) => this.error(err));
    } }, groupName, h('button', { type: 'submit' }, 'Create group'));

    this.root = h('div', { class: 'app' },
      h('header', { class: 'top' },
        h('strong', { class: 'brand' }, 'Relay'),
        h('span', { class: 'me' }, this.me.firstName),
        this.stateBadge,
        notificationsSwitch(this.http, this.token, (err) => this.error(err)),
        h('button', { type: 'button', class: 'link', onclick: () => this.logout() }, 'Log out')),
      this.errorBar,
      h('div', { class: 'body' },
        h('aside', { class: 'side', 'aria-label': 'Chats and people' }, this.messageSearch.root, search, this.searchResults, groupForm, h('h2', {}, 'Chats'), this.chatList),
        this.pane));
    this.renderPane();

    this.typingTimer = setInterval(() => this.renderTyping(), 1000);
    // The worker shows notifications and, when one is clicked, asks this page to open its chat.
    registerWorker().catch(() => undefined);
    onOpenChat((chat) => { this.wanted = chat; this.openWanted(); });
    this.listen();
    void this.client.connect().catch(() => undefined);
    document.addEventListener('visibilitychange', () => this.view?.markRead());
  }

  destroy(): void {
    clearInterval(this.typingTimer);
    this.client.close();
  }

  private error(err: unknown): void {
    this.errorBar.hidden = false;
    this.errorBar.textContent = describe(err);
  }

  private clearError(): void {
    this.errorBar.hidden = true;
    this.errorBar.textContent = '';
  }

  // ---------- live events ----------

  private listen(): void {
    const c = this.client;
    c.on('state', (s) => { this.stateBadge.textContent = STATE_TEXT[s]; this.stateBadge.dataset.state = s; });
    c.on('open', ({ reconnected }) => {
      this.refreshChats();
      this.blocking.load().catch((err: unknown) => this.error(err));
      if (reconnected) this.clearError();
    });
    c.on('closed', ({ code }) => {
      if (code === 4003) this.logout('Your session was ended (password changed or account deleted). Please log in again.');
      else if (code === 4001) this.logout('Your session expired. Please log in again.');
    });
    c.on('error', (err) => this.error(err));
    c.on('message', (m) => {
      if (this.view && belongsTo(m, this.view.active, this.me.id)) {
        this.view.add(m);
        this.typers.delete(m.senderId);
        this.renderTyping();
      }
      this.refreshChats();
    });
    c.on('markRead', ({ data }) => {
      const v = this.view;
      if (v?.active.kind === 'dialog' && data.userId === v.active.peerId && data.groupId === null) v.setPeerRead(data.lastReadId);
      if (data.userId === this.me.id) this.refreshChats();
    });
    for (const type of ['muteConversation', 'unmuteConversation'] as const) c.on(type, () => this.refreshChats());
    c.on('editMessage', ({ data }) => { this.view?.update(data.id, { content: data.content, editedAt: data.editedAt }); this.refreshChats(); });
    c.on('deleteMessage', ({ data }) => { this.view?.update(data.id, { content: '', deletedAt: data.deletedAt, attachments: [] }); this.refreshChats(); });
    for (const type of ['addReaction', 'removeReaction'] as const) c.on(type, ({ data }) => this.view?.applyReaction(type, data));
    for (const type of ['pinMessage', 'unpinMessage'] as const) {
      c.on(type, ({ data }) => {
        const v = this.view;
        if (v && belongsTo(data, v.active, this.me.id)) v.pins.load().catch((err: unknown) => this.error(err));
      });
    }
    c.on('typing', ({ data, senderName }) => {
      const a = this.view?.active;
      if (!a || data.userId === this.me.id) return;
      const here = a.kind === 'group' ? data.groupId === a.groupId : data.groupId === null && data.userId === a.peerId;
      if (!here) return;
      this.typers.set(data.userId, { name: senderName, until: Date.now() + TYPING_SHOW_MS });
      this.renderTyping();
    });
    c.on('presence', ({ data }) => {
      const a = this.view?.active;
      if (a?.kind === 'dialog' && a.peerId === data.userId) this.renderPresence(data.online, data.lastSeenAt);
    });
    for (const type of ['newGroup', 'addUserInGroup', 'renameGroup', 'setMemberRole'] as const) {
      c.on(type, ({ data }) => {
        this.refreshChats();
        const a = this.view?.active;
        if (a?.kind === 'group' && a.groupId === data.groupId) {
          if (type === 'renameGroup' && 'groupName' in data) { a.name = data.groupName; }
          void this.loadGroup();
        }
      });
    }
    for (const type of ['leaveGroup', 'removeUserFromGroup'] as const) {
      c.on(type, ({ data, message }) => {
        this.refreshChats();
        const a = this.view?.active;
        if (a?.kind !== 'group' || a.groupId !== data.groupId) return;
        if (data.userId === this.me.id) {
          if (type === 'removeUserFromGroup') this.error(message);
          this.close();
        } else {
          void this.loadGroup();
        }
      });
    }
  }

  // ---------- chat list ----------

  /** Re-reads the chat list (one request for any number of events in a burst). */
  private refreshChats(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.client.listChats({ limit: 100 }).then((rows) => {
        this.chats = rows;
        this.renderChats();
        this.renderMute();
        this.openWanted();
        const v = this.view;
        if (v?.active.kind === 'dialog') {
          const row = rows.find((r) => r.groupId === null && this.peerOf(r) === (v.active as { peerId: number }).peerId);
          if (row?.peerLastReadId) v.setPeerRead(row.peerLastReadId);
        }
      }, (err: unknown) => this.error(err));
    }, 100);
  }

  private peerOf(r: ChatListRow): number {
    return r.senderId === this.me.id ? (r.receiverId ?? this.me.id) : (r.senderId ?? 0);
  }

  private rowActive(r: ChatListRow): Active {
    return r.groupId !== null
      ? { kind: 'group', groupId: r.groupId, name: r.groupName ?? `Group ${r.groupId}` }
      : { kind: 'dialog', peerId: this.peerOf(r), name: (r.senderId === this.me.id ? r.receiverName : r.senderName) ?? 'Someone' };
  }

  private renderChats(): void {
    this.chatRows.render(this.chats.map((r) => this.rowView(r)), () => h('li', { class: 'empty' }, 'No chats yet: find someone or create a group.'));
  }

  /** Everything a chat row is drawn from (its look, compared between renders). */
  private rowView(r: ChatListRow): ChatRowView {
    const a = this.rowActive(r);
    const current = this.view !== undefined && (a.kind === 'group' ? this.view.active.kind === 'group' && this.view.active.groupId === a.groupId
      : this.view.active.kind === 'dialog' && this.view.active.peerId === a.peerId);
    const last = r.id === null ? 'No messages yet' : r.deletedAt ? 'Message deleted'
      : `${r.senderId === this.me.id ? 'You' : r.senderName ?? ''}: ${r.content || (r.attachmentName ? `File: ${r.attachmentName}` : '')}`;
    return { a, current, last, createdAt: r.createdAt, unread: r.unreadCount ?? 0, mentions: r.mentionCount ?? 0, muted: r.muted ?? false };
  }

  private chatRow({ a, current, last, createdAt, unread, mentions, muted }: ChatRowView): HTMLElement {
    return h('li', {},
      h('button', { type: 'button', class: `chat${current ? ' current' : ''}`, 'aria-current': current ? 'true' : null,
        'data-chat': chatKey(a), onclick: () => void this.open(a) },
        h('span', { class: 'name' }, a.kind === 'group' ? `# ${a.name}` : a.name, muted ? mutedMark() : null),
        h('span', { class: 'last' }, last),
        h('time', { datetime: createdAt }, timeOf(createdAt)),
        unread > 0 || mentions > 0 ? h('span', { class: 'badges' },
          mentions > 0 ? h('span', { class: 'badge mention', 'aria-label': `${mentions} mention${mentions === 1 ? '' : 's'}`, title: 'You were mentioned' }, '@') : null,
          unread > 0 ? h('span', { class: 'badge', 'aria-label': `${unread} unread` }, unread) : null) : null));
  }

  /** Opens the chat a notification pointed at, once the chat list has it (or as a bare dialog). */
  private openWanted(): void {
    const chat = this.wanted;
    if (!chat) return;
    const id = Number(chat.slice(1));
    const row = this.chats.find((r) => (chat[0] === 'g' ? r.groupId === id : r.groupId === null && this.peerOf(r) === id));
    if (!row && this.chats.length === 0) return;
    this.wanted = undefined;
    history.replaceState(null, '', location.pathname);
    void this.open(row ? this.rowActive(row) : chat[0] === 'g' ? { kind: 'group', groupId: id, name: `Group ${id}` } : { kind: 'dialog', peerId: id, name: 'Someone' });
  }

  /** The open conversation's mute menu, from its chat list row. */
  private renderMute(): void {
    const slot = this.pane.querySelector('.mute-slot');
    const a = this.view?.active;
    if (!slot || !a) return;
    const ref = refOf(a);
    const row = this.chats.find((r) => (a.kind === 'group' ? r.groupId === a.groupId : r.groupId === null && this.peerOf(r) === a.peerId));
    // The chat list is re-read on every event: rebuilding an unchanged menu would close it (and
    // detach the item) under a person's pointer whenever a message arrives.
    const key = `${a.kind === 'group' ? `g${a.groupId}` : `d${a.peerId}`}:${row?.muted ?? false}:${row?.mutedUntil ?? ''}`;
    if (slot instanceof HTMLElement && slot.dataset['key'] === key) return;
    if (slot instanceof HTMLElement) slot.dataset['key'] = key;
    slot.replaceChildren(muteMenu(row, {
      mute: (ms) => { this.client.mute(ref, ms === null ? null : new Date(Date.now() + ms)).then(() => this.refreshChats(), (err: unknown) => this.error(err)); },
      unmute: () => { this.client.unmute(ref).then(() => this.refreshChats(), (err: unknown) => this.error(err)); },
    }));
  }

  // ---------- people search ----------

  private search(q: string): void {
    const seq = ++this.searchSeq;
    if (q === '') { clear(this.searchResults); return; }
    this.http.searchUsers(this.token(), { search: q, limit: 10 }).then((users) => {
      if (seq !== this.searchSeq) return;
      clear(this.searchResults);
      const a = this.view?.active;
      for (const u of users.filter((x) => x.id !== this.me.id)) {
        const name = [u.firstName, u.lastName].filter(Boolean).join(' ');
        this.searchResults.append(h('li', { 'data-user': u.id },
          h('span', { class: 'name' }, name),
          h('button', { type: 'button', class: 'small', onclick: () => void this.open({ kind: 'dialog', peerId: u.id, name: u.firstName }) }, 'Message'),
          a?.kind === 'group' ? h('button', { type: 'button', class: 'small', onclick: () => {
            this.client.addToGroup(a.groupId, u.id).then(() => { this.clearError(); void this.loadGroup(); }, (err: unknown) => this.error(err));
          } }, `Add to ${a.name}`) : null));
      }
      if (!this.searchResults.firstChild) this.searchResults.append(h('li', { class: 'empty' }, 'Nobody found'));
    }, (err: unknown) => this.error(err));
  }

  // ---------- the open conversation ----------

  /** Opens a conversation; with `messageId` (a search result), scrolled to that message. */
  private async open(a: Active, messageId?: number): Promise<void> {
    this.clearError();
    this.editing = undefined;
    this.typers.clear();
    const row = this.chats.find((r) => (a.kind === 'group' ? r.groupId === a.groupId : r.groupId === null && this.peerOf(r) === a.peerId));
    this.view = new ConversationView(a, this.client, this.me.id, {
      onError: (err) => this.error(err),
      onEdit: (m) => this.startEdit(m),
      onChanged: () => this.refreshChats(),
    });
    this.view.peerLastReadId = row?.peerLastReadId ?? 0;
    this.view.myLastReadId = row?.lastReadId ?? 0;
    document.body.classList.add('has-active');
    this.renderPane();
    this.renderChats();
    // The results offer "Add to <group>" for the group now open.
    this.search(this.searchInput.value.trim());
    try {
      await Promise.all([this.view.load(), this.view.pins.load()]);
      if (messageId !== undefined && !(await revealMessage(this.view, messageId))) this.error('That message is no longer there');
      if (a.kind === 'dialog') {
        const [p] = await this.client.getPresence([a.peerId]);
        if (p && this.view.active === a) this.renderPresence(p.online, p.lastSeenAt);
      } else {
        await this.loadGroup();
      }
    } catch (err) {
      this.error(err);
    }
    if (messageId === undefined) this.pane.querySelector<HTMLTextAreaElement>('textarea')?.focus();
  }

  private close(): void {
    this.view = undefined;
    this.tray?.clear();
    document.body.classList.remove('has-active');
    this.renderPane();
    this.renderChats();
    this.search(this.searchInput.value.trim());
  }

  private async loadGroup(): Promise<void> {
    const a = this.view?.active;
    if (a?.kind !== 'group') return;
    try {
      const [info, members] = await Promise.all([this.client.getGroup(a.groupId), this.client.getGroupMembers(a.groupId, { limit: 100 })]);
      a.name = info.groupName;
      if (this.view) {
        this.view.role = info.role;
        this.view.members = members;
        this.view.render(false);
      }
      const title = this.pane.querySelector('.title');
      if (title) title.textContent = `# ${info.groupName}`;
      const sub = this.pane.querySelector('.subtitle');
      if (sub) sub.textContent = `${info.memberCount} member${info.memberCount === 1 ? '' : 's'} · you are ${info.role}`;
      const slot = this.pane.querySelector('.members-slot');
      if (slot) slot.replaceChildren(membersPanel({
        groupId: a.groupId, members, me: this.me.id, myRole: info.role, client: this.client,
        onError: (err) => this.error(err), onChanged: () => void this.loadGroup(), hidden: !this.showMembers,
      }));
    } catch (err) {
      this.error(err);
    }
  }

  private renderPresence(online: boolean, lastSeenAt: string | null): void {
    const dot = this.pane.querySelector<HTMLElement>('.presence');
    if (!dot) return;
    dot.className = `presence ${online ? 'online' : 'offline'}`;
    const text = online ? 'online' : lastSeenAt ? `last seen ${timeOf(lastSeenAt)}` : 'offline';
    dot.title = text;
    dot.setAttribute('aria-label', text);
    const sub = this.pane.querySelector('.subtitle');
    if (sub) sub.textContent = text;
  }

  private renderTyping(): void {
    const now = Date.now();
    for (const [id, t] of this.typers) if (t.until <= now) this.typers.delete(id);
    const line = this.pane.querySelector('.typing');
    if (!line) return;
    const names = [...this.typers.values()].map((t) => t.name);
    line.textContent = names.length === 0 ? '' : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
  }

  private startEdit(m: UiMessage): void {
    this.editing = m;
    const input = this.pane.querySelector<HTMLTextAreaElement>('textarea');
    const bar = this.pane.querySelector<HTMLElement>('.edit-bar');
    if (!input || !bar) return;
    input.value = m.content;
    bar.hidden = false;
    input.focus();
  }

  private stopEdit(): void {
    this.editing = undefined;
    const bar = this.pane.querySelector<HTMLElement>('.edit-bar');
    if (bar) bar.hidden = true;
  }

  private renderPane(): void {
    const v = this.view;
    if (!v) {
      this.pane.replaceChildren(h('div', { class: 'placeholder' }, h('p', {}, 'Pick a chat, find someone, or create a group.')));
      return;
    }
    const a = v.active;
    const onError = (err: unknown): void => this.error(err);
    const blocked = a.kind === 'dialog' && this.blocking.has(a.peerId);
    const input = h('textarea', { rows: 1, placeholder: 'Write a message', 'aria-label': 'Message', maxlength: 4096, id: 'composer' });
    const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
    const tray = new UploadTray(this.client, () => { send.disabled = tray.busy; });
    this.tray?.clear();
    this.tray = tray;
    const picker = h('input', { type: 'file', multiple: true, hidden: true, id: 'attach-input', onchange: () => {
      tray.add(picker.files ?? []);
      picker.value = '';
      send.disabled = tray.busy;
    } });
    // v1.2: `@` suggests the group's members; the view sends the mentions still named in the text.
    const mentions = a.kind === 'group' ? new MentionPicker(input, () => v.members, this.me.id) : undefined;
    if (mentions) v.mentionsFor = (text) => { const ids = mentions.mentionsIn(text); mentions.reset(); return ids; };
    const submit = (): void => {
      const editing = this.editing;
      const files = editing ? [] : tray.ready;
      // With files, white space alone is no text: the message is the files.
      const content = input.value.trim() === '' ? '' : input.value;
      if (content === '' && (files.length === 0 || editing)) return;
      if (!editing && tray.busy) return;
      input.value = '';
      if (editing) {
        this.stopEdit();
        v.edit(editing.id, content).catch((err: unknown) => this.error(err));
      } else {
        // The partner's app hides "typing" when the message arrives: the next keystroke announces again.
        this.lastTypingSent.delete(chatKey(a));
        tray.clear();
        void v.send(content, files);
      }
    };
    const take = (files: File[], ev: Event): void => {
      if (files.length === 0 || this.editing) return;
      ev.preventDefault();
      tray.add(files);
      send.disabled = tray.busy;
    };
    input.addEventListener('paste', (ev) => take(filesOf(ev.clipboardData), ev));
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); submit(); }
      if (ev.key === 'Escape' && this.editing) { this.stopEdit(); input.value = ''; }
      if (ev.key === 'Escape' && v.replyBar.target) v.replyBar.clear();
    });
    input.addEventListener('input', () => {
      const key = chatKey(a);
      if (input.value.trim() === '' || this.editing || Date.now() - (this.lastTypingSent.get(key) ?? 0) < TYPING_SEND_MS) return;
      this.lastTypingSent.set(key, Date.now());
      this.client.typing(refOf(a)).catch(() => undefined);
    });
    const groupButtons = a.kind === 'group' ? [
      h('button', { type: 'button', class: 'small', 'aria-expanded': String(this.showMembers), onclick: (ev: Event) => {
        this.showMembers = !this.showMembers;
        (ev.currentTarget as HTMLElement).setAttribute('aria-expanded', String(this.showMembers));
        const panel = this.pane.querySelector<HTMLElement>('.members');
        if (panel) panel.hidden = !this.showMembers;
      } }, 'Members'),
      h('button', { type: 'button', class: 'small danger', onclick: () => {
        this.client.leaveGroup(a.groupId).then(() => { this.close(); this.refreshChats(); }, (err: unknown) => this.error(err));
      } }, 'Leave group'),
    ] : [];
    this.pane.replaceChildren(
      h('header', { class: 'conv-head' },
        h('button', { type: 'button', class: 'small back', 'aria-label': 'Back to chats', onclick: () => this.close() }, '←'),
        a.kind === 'dialog' ? h('span', { class: 'presence offline', 'aria-label': 'offline', title: 'offline' }) : null,
        h('div', { class: 'titles' }, h('h2', { class: 'title' }, a.kind === 'group' ? `# ${a.name}` : a.name), h('span', { class: 'subtitle' })),
        h('span', { class: 'mute-slot' }),
        ...groupButtons,
        a.kind === 'dialog' && a.peerId !== this.me.id ? this.blocking.headerButton(a.peerId, a.name, onError) : null),
      v.pins.el,
      h('div', { class: 'conv-body' }, v.list, h('div', { class: 'members-slot' })),
      h('p', { class: 'typing', 'aria-live': 'polite' }),
      h('p', { class: 'edit-bar', hidden: true }, 'Editing a message — Enter saves, Esc cancels ',
        h('button', { type: 'button', class: 'small', onclick: () => { this.stopEdit(); input.value = ''; } }, 'Cancel')),
      v.replyBar.el,
      tray.root,
      blocked ? this.blocking.notice(a.peerId, a.name, onError) : h('form', { class: 'composer', onsubmit: (ev: Event) => { ev.preventDefault(); submit(); } },
        h('button', { type: 'button', class: 'attach', 'aria-label': 'Attach files', title: 'Attach files (or drop or paste them here)', onclick: () => picker.click() }, 'Attach'),
        picker, mentions?.el ?? null, input, send));
    // Files dropped anywhere on the open conversation are attached.
    this.pane.ondragover = (ev) => { if (ev.dataTransfer?.types.includes('Files')) ev.preventDefault(); };
    this.pane.ondrop = (ev) => take(filesOf(ev.dataTransfer), ev);
    v.render(true);
    this.renderMute();
  }
}

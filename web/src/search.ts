import type { RelayClient, SearchHit } from 'relay-client';
import { h, clear, timeOf } from './dom.js';
import type { Active, ConversationView } from './conversation.js';

/** How long typing pauses before a search goes out. */
const DEBOUNCE_MS = 250;
const PAGE = 20;

/**
 * Message search (PROTOCOL.md v1.2 "Search"): a search box over every conversation of the user;
 * each result shows where it was said, who said it and its text with the matched words marked,
 * and opens its conversation at that message.
 */
export class MessageSearch {
  readonly root: HTMLElement;
  private readonly input = h('input', {
    type: 'search', placeholder: 'Search messages', 'aria-label': 'Search messages', id: 'message-search', maxlength: 200,
  });
  private readonly results = h('ul', { class: 'message-results', 'aria-label': 'Messages found', 'aria-live': 'polite' });
  private readonly more = h('button', { type: 'button', class: 'small', hidden: true }, 'More results');
  private timer: ReturnType<typeof setTimeout> | undefined;
  private seq = 0;
  private query = '';
  private oldest: number | undefined;

  constructor(
    private readonly client: RelayClient,
    private readonly me: number,
    private readonly open: (a: Active, messageId: number) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(this.input.value.trim()), DEBOUNCE_MS);
    });
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') { clearTimeout(this.timer); this.run(this.input.value.trim()); }
      if (ev.key === 'Escape') { this.input.value = ''; this.run(''); }
    });
    this.more.addEventListener('click', () => this.page());
    this.root = h('div', { class: 'message-search', role: 'search' }, this.input, this.results, this.more);
  }

  private run(q: string): void {
    const seq = ++this.seq;
    this.query = q;
    this.oldest = undefined;
    this.more.hidden = true;
    // Nothing to search for: a query needs a word (letters or digits).
    if (!/[\p{L}\p{Nd}]/u.test(q)) { clear(this.results); return; }
    this.client.searchMessages(q, { limit: PAGE }).then((hits) => {
      if (seq !== this.seq) return;
      clear(this.results);
      this.show(hits);
    }, (err: unknown) => { if (seq === this.seq) this.onError(err); });
  }

  private page(): void {
    const seq = this.seq;
    if (this.oldest === undefined) return;
    this.client.searchMessages(this.query, { limit: PAGE, beforeId: this.oldest }).then((hits) => {
      if (seq === this.seq) this.show(hits);
    }, (err: unknown) => this.onError(err));
  }

  private show(hits: SearchHit[]): void {
    for (const hit of hits) this.results.append(this.item(hit));
    if (hits.length > 0) this.oldest = hits[hits.length - 1]!.id;
    this.more.hidden = hits.length < PAGE;
    if (!this.results.firstChild) this.results.append(h('li', { class: 'empty' }, 'No messages found'));
  }

  private item(hit: SearchHit): HTMLElement {
    const a: Active = hit.groupId !== null
      ? { kind: 'group', groupId: hit.groupId, name: hit.groupName ?? `Group ${hit.groupId}` }
      : hit.senderId === this.me
        ? { kind: 'dialog', peerId: hit.receiverId ?? this.me, name: hit.receiverName ?? 'Someone' }
        : { kind: 'dialog', peerId: hit.senderId, name: hit.senderName };
    const where = a.kind === 'group' ? `# ${a.name}` : a.name;
    return h('li', {},
      h('button', { type: 'button', class: 'hit', 'data-message': hit.id, onclick: () => this.open(a, hit.id) },
        h('span', { class: 'where' }, where),
        h('time', { datetime: hit.createdAt }, timeOf(hit.createdAt)),
        h('span', { class: 'snippet' }, `${hit.senderId === this.me ? 'You' : hit.senderName}: `, ...marked(hit.content, hit.highlights))));
  }
}

/** `content` as text nodes with each highlighted range in a <mark>; the offsets count code points. */
export function marked(content: string, highlights: readonly (readonly [number, number])[]): (string | HTMLElement)[] {
  const points = Array.from(content);
  const out: (string | HTMLElement)[] = [];
  let at = 0;
  for (const [start, end] of highlights) {
    if (start < at || end > points.length) continue;
    if (start > at) out.push(points.slice(at, start).join(''));
    out.push(h('mark', {}, points.slice(start, end).join('')));
    at = end;
  }
  if (at < points.length) out.push(points.slice(at).join(''));
  return out;
}

/**
 * Pages back until the message is loaded (at most `maxPages` pages), then scrolls it into view
 * and marks it for a moment. Resolves false if it is not in this conversation's history.
 */
export async function revealMessage(view: ConversationView, id: number, maxPages = 50): Promise<boolean> {
  for (let i = 0; i < maxPages && !view.messages.some((m) => m.id === id); i++) {
    const before = view.messages.length;
    await view.loadOlder();
    if (view.messages.length === before) break;
  }
  const el = view.list.querySelector<HTMLElement>(`li[data-id="${id}"]`);
  if (!el) return false;
  el.classList.add('found');
  el.scrollIntoView({ block: 'center' });
  setTimeout(() => el.classList.remove('found'), 4000);
  return true;
}


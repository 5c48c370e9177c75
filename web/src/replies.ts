import type { ChatMessage, ReplyTo } from 'relay-client';
import { h } from './dom.js';

/** A replied-to message as the quote shows it (PROTOCOL.md: its first 100 code points, "" once deleted). */
const quoteText = (r: Pick<ReplyTo, 'content' | 'deletedAt'>): string => (r.deletedAt ? 'Message deleted' : r.content);

/** The quote above a reply; clicking it goes to the original. */
export function replyQuote(r: ReplyTo, jump: (id: number) => void): HTMLElement {
  return h('button', { type: 'button', class: `quote${r.deletedAt ? ' deleted' : ''}`, 'data-reply-to': r.id,
    'aria-label': `Reply to ${r.senderName}: ${quoteText(r)}. Show the original`,
    onclick: (ev: Event) => { ev.stopPropagation(); jump(r.id); } },
  h('span', { class: 'quote-who' }, r.senderName), h('span', { class: 'quote-text' }, quoteText(r)));
}

/** The replied-to part of a message that `m` became (edited or deleted), for quotes already shown. */
export function refreshedQuote(r: ReplyTo, m: Pick<ChatMessage, 'content' | 'deletedAt'>): ReplyTo {
  return { ...r, content: m.deletedAt ? '' : [...m.content].slice(0, 100).join(''), deletedAt: m.deletedAt };
}

/** The bar above the composer while replying: the quoted message and a way out. */
export class ReplyBar {
  readonly el = h('div', { class: 'reply-bar', hidden: true, role: 'status' });
  target: ChatMessage | undefined;

  constructor(private readonly onCancel: () => void) {}

  set(m: ChatMessage, senderName: string): void {
    this.target = m;
    this.el.replaceChildren(
      h('span', { class: 'quote static' }, h('span', { class: 'quote-who' }, `Replying to ${senderName}`),
        h('span', { class: 'quote-text' }, quoteText(m))),
      h('button', { type: 'button', class: 'small', 'aria-label': 'Cancel reply', onclick: () => { this.clear(); this.onCancel(); } }, '✕'));
    this.el.hidden = false;
  }

  clear(): void {
    this.target = undefined;
    this.el.hidden = true;
    this.el.replaceChildren();
  }
}

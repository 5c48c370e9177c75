import type { ConversationRef, PinnedRow, RelayClient, DialogHistoryRow, GroupHistoryRow } from 'relay-client';
import { h } from './dom.js';

type Pinned = PinnedRow<DialogHistoryRow> | PinnedRow<GroupHistoryRow>;

/** The pinned messages of the open conversation, in a bar at its top: most recently pinned first. */
export class PinnedBar {
  readonly el = h('section', { class: 'pinned-bar', 'aria-label': 'Pinned messages', hidden: true });
  private rows: Pinned[] = [];
  private expanded = false;

  constructor(
    private readonly client: RelayClient,
    private readonly conversation: ConversationRef,
    private readonly hooks: { jump(id: number): void; canPin(): boolean; onError(err: unknown): void; onChanged(): void },
  ) {}

  has(id: number): boolean {
    return this.rows.some((r) => r.id === id);
  }

  /** Re-reads them (on open, and on a pin, unpin or delete push about this conversation). */
  async load(): Promise<void> {
    this.rows = await this.client.getPinned(this.conversation);
    this.render();
    this.hooks.onChanged();
  }

  async toggle(id: number): Promise<void> {
    if (this.has(id)) await this.client.unpinMessage(id);
    else await this.client.pinMessage(id);
    await this.load();
  }

  private render(): void {
    this.el.hidden = this.rows.length === 0;
    if (this.rows.length === 0) return this.el.replaceChildren();
    const shown = this.expanded ? this.rows : this.rows.slice(0, 1);
    const more = this.rows.length > 1 ? h('button', { type: 'button', class: 'small link', 'aria-expanded': String(this.expanded),
      onclick: () => { this.expanded = !this.expanded; this.render(); } }, this.expanded ? 'Show less' : `${this.rows.length} pinned`) : '';
    this.el.replaceChildren(
      h('ul', {}, shown.map((r) => h('li', { 'data-pinned': r.id },
        h('button', { type: 'button', class: 'pinned', 'aria-label': `Pinned: ${r.content || 'Message deleted'}. Show it`,
          onclick: () => this.hooks.jump(r.id) }, h('span', { class: 'pin-icon', 'aria-hidden': 'true' }, '📌'), h('span', { class: 'pinned-text' }, r.content)),
        this.hooks.canPin() ? h('button', { type: 'button', class: 'small', 'aria-label': 'Unpin message',
          onclick: () => { this.toggle(r.id).catch((err: unknown) => this.hooks.onError(err)); } }, 'Unpin') : null))),
      more);
  }
}

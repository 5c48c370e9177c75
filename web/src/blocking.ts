import type { RelayClient } from 'relay-client';
import { h } from './dom.js';

/**
 * Blocking (PROTOCOL.md v1.2): who this user blocks, kept current from its own actions and the
 * blockUser / unblockUser pushes of its other devices; the dialog header's Block / Unblock
 * button, and the notice that takes the composer's place in a blocked dialog.
 */
export class Blocking {
  private readonly blocked = new Set<number>();

  constructor(private readonly client: RelayClient, private readonly onChange: (userId: number) => void) {
    client.on('blockUser', ({ data }) => this.set(data.userId, true));
    client.on('unblockUser', ({ data }) => this.set(data.userId, false));
  }

  /** Reads the list (on every connect: a change made while offline shows). */
  async load(): Promise<void> {
    const rows = await this.client.getBlockedUsers({ limit: 100 });
    const ids = new Set(rows.map((r) => r.userId));
    for (const id of [...this.blocked, ...ids]) this.set(id, ids.has(id));
  }

  has(userId: number): boolean {
    return this.blocked.has(userId);
  }

  private set(userId: number, on: boolean): void {
    if (this.blocked.has(userId) === on) return;
    if (on) this.blocked.add(userId);
    else this.blocked.delete(userId);
    this.onChange(userId);
  }

  /** Block or unblock, then redraw; errors go to `onError`. */
  private toggle(userId: number, onError: (err: unknown) => void): void {
    const on = !this.blocked.has(userId);
    (on ? this.client.blockUser(userId) : this.client.unblockUser(userId))
      .then(() => this.set(userId, on), onError);
  }

  headerButton(userId: number, name: string, onError: (err: unknown) => void): HTMLElement {
    const on = this.blocked.has(userId);
    return h('button', { type: 'button', class: `small${on ? '' : ' danger'}`, 'data-action': on ? 'unblock' : 'block',
      'aria-label': `${on ? 'Unblock' : 'Block'} ${name}`, onclick: () => this.toggle(userId, onError) }, on ? 'Unblock' : 'Block');
  }

  /** In place of the composer while the dialog's partner is blocked. */
  notice(userId: number, name: string, onError: (err: unknown) => void): HTMLElement {
    return h('p', { class: 'blocked-note', role: 'status' }, `You blocked ${name}. You can't message each other. `,
      h('button', { type: 'button', class: 'small', onclick: () => this.toggle(userId, onError) }, 'Unblock'));
  }
}

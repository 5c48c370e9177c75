import type { Reaction } from 'relay-client';
import { h } from './dom.js';

/** The picker's emoji: any 1..16 code points would do (PROTOCOL.md v1.2); these cover most replies. */
export const QUICK_EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🎉', '🙏', '👀'];

/** A message's reactions as chips; a chip toggles the reader's own (`me`). */
export function reactionChips(reactions: readonly Reaction[], toggle: (emoji: string, mine: boolean) => void): HTMLElement | null {
  if (reactions.length === 0) return null;
  return h('div', { class: 'reactions', role: 'group', 'aria-label': 'Reactions' },
    reactions.map((r) => h('button', {
      type: 'button', class: `chip${r.me ? ' mine' : ''}`, 'aria-pressed': String(r.me), 'data-emoji': r.emoji,
      'aria-label': `${r.emoji} ${r.count}: ${r.me ? 'remove yours' : 'add yours'}`,
      onclick: (ev: Event) => { ev.stopPropagation(); toggle(r.emoji, r.me); },
    }, `${r.emoji} ${r.count}`)));
}

/** The emoji to pick from, for one message; Escape closes it. */
export function reactionPicker(pick: (emoji: string) => void, close: () => void): HTMLElement {
  const menu = h('div', { class: 'picker', role: 'menu', 'aria-label': 'Pick a reaction' },
    QUICK_EMOJI.map((e) => h('button', { type: 'button', role: 'menuitem', class: 'emoji', 'aria-label': `React with ${e}`,
      onclick: (ev: Event) => { ev.stopPropagation(); pick(e); close(); } }, e)));
  menu.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.stopPropagation(); close(); } });
  return menu;
}

import type { ChatListRow } from 'relay-client';
import { h, timeOf } from './dom.js';

/** The mute lengths the conversation menu offers; null: until unmuted. */
export const MUTE_CHOICES: readonly (readonly [string, number | null])[] = [
  ['1 hour', 3_600_000], ['8 hours', 8 * 3_600_000], ['a week', 7 * 86_400_000], ['for ever', null],
];

/** "Muted", "Muted until 14:05", or "" for a chat row (or none). */
export function muteText(row: Pick<ChatListRow, 'muted' | 'mutedUntil'> | undefined): string {
  if (!row?.muted) return '';
  if (!row.mutedUntil) return 'Muted';
  const until = new Date(row.mutedUntil);
  const sameDay = until.toDateString() === new Date().toDateString();
  return `Muted until ${sameDay ? timeOf(row.mutedUntil) : until.toLocaleString([], { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })}`;
}

/** The chat list's muted mark. */
export const mutedMark = (): HTMLElement => h('span', { class: 'muted-mark', title: 'Muted', 'aria-label': 'Muted', role: 'img' }, '🔕');

/**
 * The conversation header's menu: mute for 1 hour, 8 hours, a week or for ever, or unmute.
 * `mute(ms)` gets the length (null: for ever).
 */
export function muteMenu(row: Pick<ChatListRow, 'muted' | 'mutedUntil'> | undefined, act: { mute(ms: number | null): void; unmute(): void }): HTMLElement {
  const menu = h('details', { class: 'mute-menu' });
  const close = (): void => { menu.open = false; };
  const text = muteText(row);
  menu.append(
    h('summary', { class: 'small', 'aria-label': text ? `${text}: change` : 'Mute notifications' }, text ? `🔕 ${text}` : 'Mute'),
    h('div', { class: 'mute-choices', role: 'menu' },
      ...MUTE_CHOICES.map(([label, ms]) => h('button', { type: 'button', class: 'small', role: 'menuitem', onclick: () => { close(); act.mute(ms); } }, `Mute ${label}`)),
      row?.muted ? h('button', { type: 'button', class: 'small', role: 'menuitem', onclick: () => { close(); act.unmute(); } }, 'Unmute') : null));
  return menu;
}

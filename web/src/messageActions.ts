import { h } from './dom.js';

/** One action on a message (reply, react, pin, edit, delete). */
export interface MessageAction { label: string; aria: string; run(): void; danger?: boolean }

/**
 * The actions of a message as a small toolbar. It is not a permanent row of buttons: the CSS shows
 * it while the message is hovered or holds keyboard focus, and on phones after a long press
 * (openOnLongPress). The buttons stay in the tab order, so a keyboard reaches them.
 */
export function actionBar(actions: MessageAction[]): HTMLElement | null {
  if (actions.length === 0) return null;
  return h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Message actions' },
    actions.map((a) => h('button', { type: 'button', class: `small${a.danger ? ' danger' : ''}`, 'aria-label': a.aria, title: a.aria,
      onclick: (ev: Event) => { ev.stopPropagation(); a.run(); } }, a.label)));
}

const LONG_PRESS_MS = 450;
/** A finger that moves this far is scrolling, not pressing. */
const SLOP_PX = 10;

let open: HTMLElement | undefined;

/** Closes the actions opened by a long press (one message at a time). */
export function closeActions(): void {
  open?.classList.remove('actions-open');
  open = undefined;
}

// A tap anywhere but in the open message closes its actions.
document.addEventListener('pointerdown', (ev) => {
  if (open && !(ev.target instanceof Node && open.contains(ev.target))) closeActions();
});

/**
 * Touch and pen: holding a message (about half a second, without moving) opens its actions. The
 * context menu a long press raises on phones is replaced by them.
 */
export function openOnLongPress(el: HTMLElement): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let start = { x: 0, y: 0 };
  const cancel = (): void => { clearTimeout(timer); timer = undefined; };
  const openIt = (): void => {
    cancel();
    if (open !== el) closeActions();
    open = el;
    el.classList.add('actions-open');
  };
  el.addEventListener('pointerdown', (ev) => {
    if (ev.pointerType === 'mouse') return;
    start = { x: ev.clientX, y: ev.clientY };
    cancel();
    timer = setTimeout(openIt, LONG_PRESS_MS);
  });
  el.addEventListener('pointermove', (ev) => {
    if (timer && Math.hypot(ev.clientX - start.x, ev.clientY - start.y) > SLOP_PX) cancel();
  });
  for (const type of ['pointerup', 'pointercancel', 'pointerleave'] as const) el.addEventListener(type, cancel);
  el.addEventListener('contextmenu', (ev) => {
    if ((ev as PointerEvent).pointerType === 'mouse') return;
    ev.preventDefault();
    openIt();
  });
}

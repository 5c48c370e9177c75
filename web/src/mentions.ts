import { h } from './dom.js';

export interface Mentionable { userId: number; firstName: string }

/** The `@word` being typed right before the caret, if any (a mention starts a word). */
function mentionAt(text: string, caret: number): { start: number; query: string } | undefined {
  const m = /(^|\s)@([^\s@]{0,30})$/u.exec(text.slice(0, caret));
  return m ? { start: caret - m[2]!.length - 1, query: m[2]! } : undefined;
}

/**
 * `@` in a group's composer: suggests the members whose first name starts with what follows it,
 * inserts `@Name ` on a pick, and remembers whom each `@Name` means. mentionsIn tells which of the
 * picked members are still named in the text when it is sent.
 */
export class MentionPicker {
  readonly el = h('ul', { class: 'mention-list', role: 'listbox', 'aria-label': 'Mention a member', hidden: true });
  private picked = new Map<string, number>();
  private options: Mentionable[] = [];
  private active = 0;

  constructor(private readonly input: HTMLTextAreaElement, private readonly members: () => readonly Mentionable[], private readonly me: number) {
    input.addEventListener('input', () => this.update());
    input.addEventListener('blur', () => setTimeout(() => this.hide(), 150));
    // Capture: at the input itself capture listeners run first, so Enter picks instead of sending.
    input.addEventListener('keydown', (ev) => this.key(ev), true);
  }

  /** The ids of picked members still named (`@Name`) in `text`, ascending. */
  mentionsIn(text: string): number[] {
    const ids = [...this.picked].filter(([name]) => new RegExp(`(^|\\s)@${escape(name)}(?![\\p{L}\\p{N}])`, 'u').test(text)).map(([, id]) => id);
    return [...new Set(ids)].sort((a, b) => a - b);
  }

  reset(): void {
    this.picked.clear();
    this.hide();
  }

  private update(): void {
    const at = mentionAt(this.input.value, this.input.selectionStart ?? this.input.value.length);
    if (!at) return this.hide();
    const q = at.query.toLocaleLowerCase();
    this.options = this.members().filter((m) => m.userId !== this.me && m.firstName.toLocaleLowerCase().startsWith(q)).slice(0, 8);
    if (this.options.length === 0) return this.hide();
    this.active = Math.min(this.active, this.options.length - 1);
    this.draw();
  }

  private draw(): void {
    this.el.replaceChildren(...this.options.map((m, i) => h('li', {
      role: 'option', id: `mention-${m.userId}`, 'aria-selected': String(i === this.active), 'data-user': m.userId,
      // mousedown, not click: the textarea keeps its focus and caret.
      onmousedown: (ev: Event) => { ev.preventDefault(); this.pick(m); },
    }, `@${m.firstName}`)));
    this.el.hidden = false;
    this.input.setAttribute('aria-activedescendant', `mention-${this.options[this.active]!.userId}`);
  }

  private hide(): void {
    this.el.hidden = true;
    this.options = [];
    this.active = 0;
    this.input.removeAttribute('aria-activedescendant');
  }

  private key(ev: KeyboardEvent): void {
    if (this.el.hidden || this.options.length === 0) return;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      this.active = (this.active + (ev.key === 'ArrowDown' ? 1 : -1) + this.options.length) % this.options.length;
      this.draw();
    } else if (ev.key === 'Enter' || ev.key === 'Tab') {
      this.pick(this.options[this.active]!);
    } else if (ev.key === 'Escape') {
      this.hide();
    } else {
      return;
    }
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }

  private pick(m: Mentionable): void {
    const caret = this.input.selectionStart ?? this.input.value.length;
    const at = mentionAt(this.input.value, caret);
    if (!at) return this.hide();
    const insert = `@${m.firstName} `;
    this.input.value = this.input.value.slice(0, at.start) + insert + this.input.value.slice(caret);
    const pos = at.start + insert.length;
    this.input.setSelectionRange(pos, pos);
    this.picked.set(m.firstName, m.userId);
    this.hide();
    this.input.focus();
  }
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

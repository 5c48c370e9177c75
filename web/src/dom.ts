/** A tiny element builder: enough view library for this app, and no inline HTML (the CSP forbids inline code anyway). */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'value') (el as unknown as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
  return el;
}

export const clear = (el: Element): void => { el.replaceChildren(); };

export const timeOf = (iso: string): string =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** An error as one line of text for the user. */
export const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * A list drawn by key: an item whose look (a string of everything its element is drawn from) did
 * not change keeps its element. A push redrawing a list between the press and the release of a
 * button in it would otherwise swallow the click, and a text selection in it would vanish.
 */
export class KeyedList<T> {
  private drawn = new Map<string, { look: string; el: HTMLElement }>();

  constructor(
    private readonly parent: HTMLElement,
    private readonly keyOf: (item: T) => string,
    private readonly lookOf: (item: T) => string,
    private readonly draw: (item: T) => HTMLElement,
  ) {}

  render(items: readonly T[], empty: () => HTMLElement): void {
    if (items.length === 0) {
      this.drawn.clear();
      this.parent.replaceChildren(empty());
      return;
    }
    const drawn = new Map<string, { look: string; el: HTMLElement }>();
    const els = items.map((item) => {
      const key = this.keyOf(item);
      const look = this.lookOf(item);
      const before = this.drawn.get(key);
      const el = before?.look === look ? before.el : this.draw(item);
      drawn.set(key, { look, el });
      return el;
    });
    this.drawn = drawn;
    const children = this.parent.children;
    els.forEach((el, i) => { if (children[i] !== el) this.parent.insertBefore(el, children[i] ?? null); });
    while (children.length > els.length) this.parent.lastElementChild!.remove();
  }
}

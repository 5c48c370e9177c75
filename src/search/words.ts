/*
 * Words as search sees them (PROTOCOL.md v1.2 "Search"): runs of letters and digits, compared
 * lower-cased. The database splits and lower-cases stored messages the same way
 * (relay_search_words in sql/008_search_blocking.sql: ICU's alnum, ICU's root lower-casing); this
 * module counts a query's words for validation and finds the highlights in a result's content.
 * "Digits" are decimal digits (\p{Nd}), as ICU's alnum has it.
 */

const WORD = /[\p{L}\p{Nd}]+/gu;

/** The query's words, lower-cased, in order (repeats kept: they count against the limit of 10). */
export function queryWords(query: string): string[] {
  return Array.from(query.matchAll(WORD), (m) => m[0].toLowerCase());
}

/**
 * `[start, end)` code point offsets into `content` of every word that some query word begins, in
 * order. Offsets are in code points, not UTF-16 units: "😀 hello" highlights [2, 7].
 */
export function highlights(content: string, words: readonly string[]): [number, number][] {
  const out: [number, number][] = [];
  let unit = 0;
  let point = 0;
  for (const m of content.matchAll(WORD)) {
    point += codePointsIn(content, unit, m.index);
    const length = codePointsIn(m[0], 0, m[0].length);
    const lower = m[0].toLowerCase();
    if (words.some((w) => lower.startsWith(w))) out.push([point, point + length]);
    point += length;
    unit = m.index + m[0].length;
  }
  return out;
}

/** Code points in s[from, to) (UTF-16 units): a surrogate pair counts once. */
function codePointsIn(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one: the pair is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

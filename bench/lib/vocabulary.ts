/**
 * Words for the `search` scenario's messages and queries: a vocabulary of VOCABULARY made-up
 * words (two or three syllables) drawn with a skewed frequency (word k with probability
 * falling like a power law: a few words are in many messages, most in few), so that a search
 * meets both common and rare words and prefixes. The seed draws them in SQL and the generators
 * in TypeScript; both from the same rule, which lives here in both languages.
 */
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'su', 'ta', 'ri', 'po', 'de', 'vu', 'sa', 'ko', 'li', 'ma', 'te', 'zu', 'fe', 'gi', 'ho', 'ba', 'ce', 'du', 'ni', 'ro'];
export const VOCABULARY = 5000;
/** Words per seeded message. */
export const WORDS_PER_MESSAGE = 8;
/** Skew: word index = floor(VOCABULARY * u^SKEW) for u uniform in [0, 1). */
const SKEW = 3;

export function word(k: number): string {
  const n = SYLLABLES.length;
  return SYLLABLES[k % n]! + SYLLABLES[Math.floor(k / n) % n]! + (k >= n * n ? SYLLABLES[Math.floor(k / (n * n)) % n]! : '');
}

/** A word index drawn with the seed's skew from `u` in [0, 1). */
export const skewed = (u: number): number => Math.min(VOCABULARY - 1, Math.floor(VOCABULARY * u ** SKEW));

/**
 * SQL: the content of seeded message `n` (a bigint expression): its number, then
 * WORDS_PER_MESSAGE words, capitalized (so that matching has case to ignore).
 */
export function sqlContent(n: string): string {
  const syl = `'{${SYLLABLES.join(',')}}'::text[]`;
  const s = SYLLABLES.length;
  // u from a hash of (n, j): the same message always gets the same words.
  const k = `least(${VOCABULARY - 1}, floor(${VOCABULARY} * power((hashint8(${n} * 16 + j) & 2147483647)::float8 / 2147483648, ${SKEW}))::int)`;
  const w = `(${syl})[1 + k % ${s}] || (${syl})[1 + (k / ${s}) % ${s}] || case when k >= ${s * s} then (${syl})[1 + (k / ${s * s}) % ${s}] else '' end`;
  return `'Message ' || ${n} || ': ' || initcap((select string_agg(${w}, ' ' order by j) from (select j, ${k} as k from generate_series(1, ${WORDS_PER_MESSAGE}) j) d))`;
}

/** A small deterministic PRNG (mulberry32), so every run asks the same queries. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` queries as people type them: one word in two, two words otherwise, each cut to a prefix
 * of 3 or more letters. `common`: the words drawn with the messages' own skew (people searching for
 * the words most messages have: many matches per search); otherwise each word of the vocabulary
 * equally likely (searching for a particular word: mostly few matches, though a short prefix of a
 * rare word can still be the start of a common one).
 */
export function queries(count: number, opts: { common: boolean; seed?: number }): string[] {
  const random = prng(opts.seed ?? 1);
  const pick = (): number => (opts.common ? skewed(random()) : Math.floor(random() * VOCABULARY));
  const prefix = (): string => {
    const w = word(pick());
    return w.slice(0, Math.min(w.length, 3 + Math.floor(random() * (w.length - 2))));
  };
  return Array.from({ length: count }, () => (random() < 0.5 ? prefix() : `${prefix()} ${prefix()}`));
}

/*
 * What a push service's answer means, and when to try again. Pure: the worker applies it.
 *   2xx            delivered
 *   404, 410       the subscription is gone: delete it (RFC 8030 §7.3)
 *   429, 5xx       try again later (429's Retry-After honoured), as for network errors and timeouts
 *   anything else  refused for good (a 400 will not turn into a 201): dropped, counted as failed
 * Retries back off exponentially with full jitter, and stop once the notification is older than
 * the give-up age (1 h by default).
 */

export type Verdict =
  | { kind: 'sent' }
  | { kind: 'gone' }
  | { kind: 'retry'; afterMs: number | null }
  | { kind: 'refused'; status: number };

/** Retry-After: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export function verdictOf(status: number, retryAfter: string | null): Verdict {
  if (status >= 200 && status < 300) return { kind: 'sent' };
  if (status === 404 || status === 410) return { kind: 'gone' };
  if (status === 429 || status >= 500) return { kind: 'retry', afterMs: retryAfterMs(retryAfter) };
  return { kind: 'refused', status };
}

/**
 * The delay before attempt `attempts + 1`: a service's own Retry-After when it gave one (never
 * less), else a random delay up to base * 2^(attempts-1), capped at 10 minutes.
 */
export function retryDelayMs(attempts: number, baseMs: number, afterMs: number | null, random = Math.random): number {
  const ceiling = Math.min(baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 20)), 600_000);
  const jittered = Math.max(baseMs / 2, random() * ceiling);
  return afterMs !== null ? Math.max(afterMs, Math.min(jittered, baseMs)) : jittered;
}

/** Whether a retry after `delayMs` still falls within the give-up age of a notification made at `createdAt`. */
export const withinAge = (createdAt: number, delayMs: number, maxAgeMs: number, now = Date.now()): boolean =>
  now + delayMs - createdAt <= maxAgeMs;

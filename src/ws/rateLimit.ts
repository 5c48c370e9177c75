import type { Session } from './session.js';

/**
 * Token bucket per connection, kept in the session itself (no map to leak): `burst` requests
 * at once, refilled at `perSecond`.
 */
export function takeToken(session: Session, perSecond: number, burst: number): boolean {
  const now = Date.now();
  const refill = ((now - session.refilledAt) / 1000) * perSecond;
  if (refill > 0) {
    session.tokens = Math.min(burst, session.tokens + refill);
    session.refilledAt = now;
  }
  if (session.tokens < 1) return false;
  session.tokens -= 1;
  return true;
}

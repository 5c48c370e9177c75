import type { Session } from './session.js';

/**
 * Token bucket per connection, kept in the session itself (no map to leak): `burst` requests
 * at once, refilled at `perSecond`.
 */
export function takeToken(session: Pick<Session, 'rateAllowance' | 'rateRefilledAt'>, perSecond: number, burst: number, now = Date.now()): boolean {
  const refill = ((now - session.rateRefilledAt) / 1000) * perSecond;
  if (refill > 0) {
    session.rateAllowance = Math.min(burst, session.rateAllowance + refill);
    session.rateRefilledAt = now;
  }
  if (session.rateAllowance < 1) return false;
  session.rateAllowance -= 1;
  return true;
}

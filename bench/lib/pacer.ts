/**
 * Open-loop sending: a fixed schedule of intended send times at `rate` per second, fired from
 * a 1 ms timer and caught up after any stall. Latency is measured from the intended time, so
 * a stalled server (or generator) shows up in the latency instead of silently lowering the
 * rate (no coordinated omission).
 */
import { nowMicros } from './clock.js';

export function startPacer(rate: number, fire: (intendedMicros: number) => void): () => void {
  if (!(rate > 0)) return () => undefined;
  const start = nowMicros();
  const interval = 1e6 / rate;
  let issued = 0;
  const timer = setInterval(() => {
    const now = nowMicros();
    while (start + issued * interval <= now) {
      fire(Math.round(start + issued * interval));
      issued++;
    }
  }, 1);
  return () => clearInterval(timer);
}

/**
 * Time in microseconds on the system-wide monotonic clock (libuv's hrtime is CLOCK_MONOTONIC),
 * so a timestamp written by one generator process can be compared by another.
 */
export function nowMicros(): number {
  const [seconds, nanos] = process.hrtime();
  return seconds * 1e6 + Math.floor(nanos / 1000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

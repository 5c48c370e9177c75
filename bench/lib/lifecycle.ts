/**
 * Everything a run starts must be undone even when it is interrupted: each resource registers
 * an idempotent disposer here; scenarios call it from `finally`, and the SIGINT handler calls
 * whatever is still registered.
 */
const live = new Set<() => Promise<void>>();

/** Wraps a disposer so it runs at most once and is dropped from the registry when it has. */
export function track(dispose: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  const once = (): Promise<void> => {
    done ??= (async () => {
      live.delete(once);
      await dispose();
    })();
    return done;
  };
  live.add(once);
  return once;
}

/** Runs every registered disposer, newest first, each failure reported but not stopping the rest. */
export async function disposeAll(): Promise<void> {
  for (const dispose of [...live].reverse()) {
    try {
      await dispose();
    } catch (error) {
      console.error('cleanup failed:', error instanceof Error ? error.message : error);
    }
  }
}

export class TimeoutError extends Error {}

/** Bounds one phase of a run: rejects with a named timeout instead of hanging. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

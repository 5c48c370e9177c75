/**
 * Group commit: calls made in the same event-loop turn (and while the previous batch is in
 * flight) are written by one statement. Each caller still waits for its own result, which
 * is only handed out after that statement has committed.
 */
export function createBatcher<In, Out>(
  write: (items: In[]) => Promise<Out[]>,
  maxBatch = 1000,
): (item: In) => Promise<Out> {
  interface Pending { item: In; resolve: (out: Out) => void; reject: (err: unknown) => void }
  let queue: Pending[] = [];
  let inFlight = false;
  let scheduled = false;

  const flush = async (): Promise<void> => {
    scheduled = false;
    if (inFlight || queue.length === 0) return;
    const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
    if (batch === queue) queue = [];
    inFlight = true;
    try {
      const results = await write(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as Out));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      inFlight = false;
      if (queue.length > 0) schedule();
    }
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void flush());
  };

  return (item) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!inFlight) schedule();
    });
}

/**
 * Group commit: calls made in the same event-loop turn (and while earlier batches are in
 * flight) are written by one statement. Each caller still waits for its own result, which
 * is only handed out after that statement has committed.
 *
 * Up to `depth` batches are in flight at once (on separate pool connections), so the database
 * works on the next batch while this process hands out and publishes the previous one; with one
 * in flight, each side sat idle while the other worked. Results are handed out in batch order
 * whatever order the statements finish in: callers (and the pushes they publish) see batch
 * order, which for sends is seq order within a conversation, since a later batch waits for the
 * earlier one's row locks.
 */
export function createBatcher<In, Out>(
  write: (items: In[]) => Promise<Out[]>,
  { maxBatch = 1000, depth = 2 }: { maxBatch?: number; depth?: number } = {},
): (item: In) => Promise<Out> {
  interface Pending { item: In; resolve: (out: Out) => void; reject: (err: unknown) => void }
  let queue: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;
  /** Settles when the latest batch has handed out its results. */
  let handedOut: Promise<void> = Promise.resolve();

  const flush = (): void => {
    scheduled = false;
    if (inFlight >= depth || queue.length === 0) return;
    const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
    if (batch === queue) queue = [];
    inFlight++;
    const written = write(batch.map((p) => p.item)).then(
      (results) => () => batch.forEach((p, i) => p.resolve(results[i] as Out)),
      (err: unknown) => () => { for (const p of batch) p.reject(err); },
    );
    const previous = handedOut;
    handedOut = Promise.all([written, previous]).then(([handOut]) => {
      handOut();
      inFlight--;
      if (queue.length > 0) schedule();
    });
    if (queue.length > 0) schedule();
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return (item) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (inFlight < depth) schedule();
    });
}

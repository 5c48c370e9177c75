import { isUniqueViolation } from './client.js';

// A batch statement (sends, markRead) is all or nothing: when PostgreSQL rolls it back, no seq
// is burnt and no marker moved, so running it again is safe. Two reasons are worth a retry:
//   23505  a clientMessageId committed by another batch after this statement's snapshot (a
//          resend racing its original on another node): the retry sees it and answers a duplicate;
//   40P01  a deadlock, which PostgreSQL breaks by aborting one side. The batches themselves take
//          their row locks sorted, but other statements (e.g. a group's ownership passing on)
//          lock members in their own order.
const ATTEMPTS = 3;
const isDeadlock = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '40P01';

export async function retryRolledBack<T>(write: () => PromiseLike<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= ATTEMPTS || !(isUniqueViolation(err) || isDeadlock(err))) throw err;
    }
  }
}

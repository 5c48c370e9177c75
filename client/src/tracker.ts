import { conversationKey, type Conversation } from './messages.js';

/** What the client knows of one conversation: the newest message it has seen there. */
export interface Seen {
  conversation: Conversation;
  /** Newest message id seen; 0 when the conversation was seen empty. */
  lastId: number;
  /** Its seq (v1.1), or null if unknown. */
  lastSeq: number | null;
  /** Work on this conversation (catch-up, gap fills, emitting) runs one at a time, in order. */
  chain: Promise<void>;
}

/** Message ids kept for de-duplication; old ones fall out (a drop of more than this is caught by afterId). */
const MAX_IDS = 10_000;

/**
 * The conversations the client has seen and the message ids it has delivered: the basis of
 * catch-up (afterId from `lastId`), gap detection (`seq` jumps) and "each message once".
 */
export class Tracker {
  private readonly convs = new Map<string, Seen>();
  private readonly ids = new Set<number>();

  get(c: Conversation): Seen | undefined {
    return this.convs.get(conversationKey(c));
  }

  /** Records that the conversation exists (seen empty if it is new). */
  touch(c: Conversation): Seen {
    const key = conversationKey(c);
    let s = this.convs.get(key);
    if (!s) this.convs.set(key, (s = { conversation: c, lastId: 0, lastSeq: null, chain: Promise.resolve() }));
    return s;
  }

  /** Records a message as seen; returns false if it was seen before. */
  note(c: Conversation, id: number, seq: number | null): boolean {
    const s = this.touch(c);
    if (id > s.lastId) {
      s.lastId = id;
      if (seq !== null) s.lastSeq = seq;
    }
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > MAX_IDS) this.ids.delete(this.ids.values().next().value as number);
    return true;
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  forget(c: Conversation): void {
    this.convs.delete(conversationKey(c));
  }

  /** Where each conversation stood: taken before anything is resent, so that catch-up starts there. */
  snapshot(): { seen: Seen; afterId: number }[] {
    return [...this.convs.values()].map((seen) => ({ seen, afterId: seen.lastId }));
  }

  /** Runs `task` after what is already queued for the conversation; a failure does not block later work. */
  run(c: Conversation, task: () => Promise<void>): Promise<void> {
    const s = this.touch(c);
    const next = s.chain.then(task);
    s.chain = next.catch(() => undefined);
    return next;
  }
}

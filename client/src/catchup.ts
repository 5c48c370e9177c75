import { Tracker, type Seen } from './tracker.js';
import {
  conversationOf, fromDialogRow, fromGroup, fromGroupRow, fromPrivate, type ChatMessage, type Conversation,
} from './messages.js';
import type { HistoryPaging, Params, PushData, PushType, ReplyData, RequestType } from './wire.js';

const PAGE = 100;

export interface CatchUpDeps {
  /** The signed-in user. */
  me(): number;
  /** A read on the open socket whose reply is not fed back to `onReply` (rejects if not open). */
  read<T extends RequestType>(type: T, params: Params<T>): Promise<ReplyData<T>>;
  /** An unacknowledged send of this client with this content in this conversation. */
  sending(conv: Conversation, content: string): boolean;
  deliver(m: ChatMessage & { catchUp: boolean }): void;
  report(err: unknown, what: string): void;
}

/**
 * "Each message once, in order": what the client learns of conversations (from replies and
 * pushes), the catch-up after a reconnect (afterId), and gap fills when a push's seq jumps.
 * Work on one conversation runs one task at a time, so a push waits for the catch-up before it.
 */
export class CatchUp {
  private readonly tracker = new Tracker();

  constructor(private readonly deps: CatchUpDeps) {}

  /** Where each conversation stood: taken before anything is resent, so the replies to resends do not move it past what was missed. */
  mark(): { seen: Seen; afterId: number }[] {
    return this.tracker.snapshot();
  }

  /** Delivers, per conversation, what came after the mark and was not delivered yet. */
  start(from: { seen: Seen; afterId: number }[]): void {
    for (const { seen, afterId } of from) {
      void this.tracker.run(seen.conversation, () => this.fill(seen.conversation, afterId, true))
        .catch((err: unknown) => this.deps.report(err, 'catch-up'));
    }
  }

  onPush<T extends PushType>(type: T, data: PushData<T>, senderName: string): void {
    const me = this.deps.me();
    if (type === 'privateMessage' || type === 'messageInGroup') {
      const m = type === 'privateMessage'
        ? fromPrivate(data as PushData<'privateMessage'>, senderName)
        : fromGroup(data as PushData<'messageInGroup'>, senderName);
      const conv = conversationOf(m, me);
      void this.tracker.run(conv, async () => {
        const seen = this.tracker.get(conv);
        // A seq jump: messages in between never reached us. Fetch them first, so order holds.
        if (seen && seen.lastSeq !== null && m.seq !== null && m.seq > seen.lastSeq + 1 && !this.tracker.has(m.id)) {
          await this.fill(conv, seen.lastId, false);
        }
        if (this.tracker.note(conv, m.id, m.seq)) this.deps.deliver({ ...m, catchUp: false });
      }).catch((err: unknown) => this.deps.report(err, 'gap fill'));
    } else if (type === 'newGroup') {
      this.tracker.touch({ kind: 'group', groupId: (data as PushData<'newGroup'>).groupId });
    } else if (type === 'leaveGroup' || type === 'removeUserFromGroup') {
      const d = data as PushData<'leaveGroup'>;
      if (d.userId === me) this.tracker.forget({ kind: 'group', groupId: d.groupId });
    }
  }

  /** A send's reply: the message is delivered (by its promise), and the conversation seen. */
  onSent(type: 'privateMessage' | 'messageInGroup', data: ReplyData<'privateMessage'> | ReplyData<'messageInGroup'>): void {
    const m = type === 'privateMessage' ? fromPrivate(data as ReplyData<'privateMessage'>, null) : fromGroup(data as ReplyData<'messageInGroup'>, null);
    this.tracker.note(conversationOf(m, this.deps.me()), m.id, m.seq);
  }

  /** What a reply to the app's own requests teaches: conversations that exist, messages it has. */
  onReply(type: string, params: unknown, data: unknown): void {
    const me = this.deps.me();
    if (type === 'listLastMessage') {
      for (const r of data as ReplyData<'listLastMessage'>) {
        const conv: Conversation | undefined = r.groupId !== null ? { kind: 'group', groupId: r.groupId }
          : r.senderId !== null ? { kind: 'dialog', peerId: r.senderId === me ? (r.receiverId ?? me) : r.senderId } : undefined;
        if (!conv) continue;
        // Each listed conversation is caught up after a reconnect; what is listed now counts as known.
        const seen = this.tracker.touch(conv);
        if (r.id !== null && r.id > seen.lastId) { seen.lastId = r.id; seen.lastSeq = r.seq ?? null; }
      }
    } else if ((type === 'getlatestMessageDialog' || type === 'getlatestMessageGroup') && (params as HistoryPaging).beforeId === undefined) {
      const rows = type === 'getlatestMessageDialog'
        ? (data as ReplyData<'getlatestMessageDialog'>).map(fromDialogRow)
        : (data as ReplyData<'getlatestMessageGroup'>).map(fromGroupRow);
      const conv: Conversation = type === 'getlatestMessageDialog'
        ? { kind: 'dialog', peerId: (params as Params<'getlatestMessageDialog'>).receiverId }
        : { kind: 'group', groupId: (params as Params<'getlatestMessageGroup'>).groupId };
      this.tracker.touch(conv);
      for (const m of rows) this.tracker.note(conv, m.id, m.seq);
    } else if (type === 'newGroup') {
      this.tracker.touch({ kind: 'group', groupId: (data as ReplyData<'newGroup'>).groupId });
    } else if (type === 'leaveGroup') {
      this.tracker.forget({ kind: 'group', groupId: (params as Params<'leaveGroup'>).groupId });
    }
  }

  /** Delivers the messages of `conv` newer than `afterId` that were not delivered yet, oldest first. */
  private async fill(conv: Conversation, afterId: number, catchUp: boolean): Promise<void> {
    const me = this.deps.me();
    for (let after = afterId; ;) {
      const cursor = after > 0 ? { afterId: after } : {};
      const rows = conv.kind === 'dialog'
        ? (await this.deps.read('getlatestMessageDialog', { receiverId: conv.peerId, limit: PAGE, ...cursor })).map(fromDialogRow)
        : (await this.deps.read('getlatestMessageGroup', { groupId: conv.groupId, limit: PAGE, ...cursor })).map(fromGroupRow);
      // With afterId the page is oldest first; without (a conversation seen empty) newest first.
      if (after === 0) rows.reverse();
      for (const m of rows) {
        // This client's own send whose reply is still on its way: its promise delivers it.
        const own = m.senderId === me && this.deps.sending(conv, m.content);
        if (this.tracker.note(conv, m.id, m.seq) && !own) this.deps.deliver({ ...m, catchUp });
      }
      if (rows.length < PAGE || after === 0) return;
      after = rows[rows.length - 1]!.id;
    }
  }
}

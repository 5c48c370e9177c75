import type { Sql } from './client.js';
import { createSends, type SendOptions } from './sends.js';
import { createReadMarkers } from './readMarkers.js';
import { createEdits } from './edits.js';
import { createHistoryReads } from './historyReads.js';
import { createReactions } from './reactions.js';
import { createPins } from './pins.js';

export type { GroupSend, PrivateSend, StoredGroupMessage, StoredPrivateMessage, SendOutcome } from './sends.js';

export type { Page, ChatRow, DialogHistoryRow, GroupHistoryRow, GroupHistory } from './historyReads.js';

export function createMessages(sql: Sql, sends: SendOptions = {}) {
  return {
    ...createSends(sql, sends),
    ...createReadMarkers(sql),
    ...createEdits(sql),
    ...createHistoryReads(sql),
    ...createReactions(sql),
    ...createPins(sql),
  };
}

export type Messages = ReturnType<typeof createMessages>;

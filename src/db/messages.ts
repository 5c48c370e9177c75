import type { Sql } from './client.js';
import { createSends, type SendOptions } from './sends.js';
import { createReadMarkers } from './readMarkers.js';
import { createEdits } from './edits.js';
import { createHistoryReads } from './historyReads.js';
import { createReactions } from './reactions.js';
import { createPins } from './pins.js';
import type { FileSigner } from '../files/signing.js';

export type { GroupSend, PrivateSend, StoredGroupMessage, StoredPrivateMessage, SendOutcome } from './sends.js';

export type { Page, ChatRow, DialogHistoryRow, GroupHistoryRow, GroupHistory } from './historyReads.js';

/**
 * `signer`: message rows carry their files' URLs, signed in the statements that read them.
 * `sends`: the push outbox written with each stored message, and who to tell after a commit.
 */
export function createMessages(sql: Sql, signer: FileSigner, sends: SendOptions = {}) {
  return {
    ...createSends(sql, sends),
    ...createReadMarkers(sql),
    ...createEdits(sql, signer),
    ...createHistoryReads(sql, signer),
    ...createReactions(sql),
    ...createPins(sql, signer),
  };
}

export type Messages = ReturnType<typeof createMessages>;

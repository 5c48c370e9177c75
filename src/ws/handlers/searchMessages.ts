import * as v from 'valibot';
import { defineHandler } from '../handler.js';
import { codePoints, conversation, limit, messageId } from '../../validate.js';
import { ClientError, ErrorCode, JsonText, NOT_A_MEMBER } from '../../protocol.js';
import type { SearchHit } from '../../../client/src/wire.js';
import { highlights, queryWords } from '../../search/words.js';
import type { SearchScope } from '../../db/search.js';

const MAX_QUERY = 200;
const MAX_WORDS = 10;

const query = v.pipe(
  v.string('query must be a string'),
  v.check((q) => codePoints(q) >= 1 && codePoints(q) <= MAX_QUERY, `query must be 1 to ${MAX_QUERY} characters`),
  v.check((q) => queryWords(q).length >= 1, 'query must hold at least one word (letters or digits)'),
  v.check((q) => queryWords(q).length <= MAX_WORDS, `query must hold at most ${MAX_WORDS} words`),
);

export const searchMessages = defineHandler({
  params: v.pipe(
    v.object({ query, ...conversation, limit, beforeId: v.optional(messageId('beforeId')) }),
    v.check((p) => p.receiverId == null || p.groupId == null, 'Give at most one of receiverId or groupId'),
  ),
  async handle({ s, userId }, p) {
    const scope: SearchScope = p.groupId != null ? { kind: 'group', groupId: p.groupId }
      : p.receiverId != null ? { kind: 'dialog', peerId: p.receiverId } : { kind: 'all' };
    const rows = await s.search.searchMessages({ me: userId, query: p.query, scope, limit: p.limit, beforeId: p.beforeId });
    if (rows === null) throw new ClientError(ErrorCode.FORBIDDEN, NOT_A_MEMBER);
    const words = queryWords(p.query);
    // Each row's JSON text from the database, with its highlights as the last field.
    const items = rows.map((r) => `${r.data.slice(0, -1)},"highlights":${JSON.stringify(highlights(r.content, words))}}`);
    return new JsonText<SearchHit[]>(`[${items.join(',')}]`);
  },
});

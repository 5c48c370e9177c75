import * as v from 'valibot';
import { ClientError, ErrorCode, MAX_ID32 } from './protocol.js';

/** Parses with a valibot schema, or throws a VALIDATION error naming the first bad field. */
export function parseOrThrow<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const where = issue.path?.map((p) => String(p.key)).join('.');
  throw new ClientError(ErrorCode.VALIDATION, where && !issue.message.startsWith(where) ? `${where}: ${issue.message}` : issue.message);
}

/** PROTOCOL.md counts lengths in Unicode code points; String#length counts UTF-16 units. */
export const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

export const id32 = (name: string) =>
  v.pipe(
    v.number(`${name} must be an integer`),
    v.integer(`${name} must be an integer`),
    v.minValue(1, `${name} must be at least 1`),
    v.maxValue(MAX_ID32, `${name} must be at most ${MAX_ID32}`),
  );

export const messageId = (name: string) =>
  v.pipe(
    v.number(`${name} must be an integer`),
    v.integer(`${name} must be an integer`),
    v.minValue(1, `${name} must be at least 1`),
    v.maxValue(Number.MAX_SAFE_INTEGER, `${name} must be at most 2^53-1`),
  );

/**
 * What PostgreSQL text can hold and give back unchanged: no U+0000 (refused by the server, which
 * would fail a whole batched insert) and no lone surrogates (stored as U+FFFD, so the history
 * would differ from the reply).
 */
export const storable = (s: string): boolean =>
  !s.includes('\u0000') && !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/** A name that is stored trimmed: its length is checked after trimming. */
export const trimmedText = (name: string, max: number) =>
  v.pipe(v.string(`${name} must be a string`), v.trim(), text(name, max));

export const text = (name: string, max: number) =>
  v.pipe(
    v.string(`${name} must be a string`),
    v.check(storable, `${name} must be valid Unicode text without NUL characters`),
    v.check((s) => s.trim().length > 0, `${name} must not be empty or only white space`),
    v.check((s) => codePoints(s) <= max, `${name} must be at most ${max} characters`),
  );

/** A file id as POST /files makes them (files/service.ts): 128 random bits, base64url. */
export const FILE_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * A send's `attachments?` (PROTOCOL.md v1.2 "Files"): up to 10 file ids; a repeated id counts once.
 * `content` of a send may then be "" (contentOrAttachments checks the pair).
 */
export const attachments = v.optional(
  v.pipe(
    v.array(v.pipe(v.string('attachments must hold file ids'), v.regex(FILE_ID, 'attachments must hold file ids')), 'attachments must be an array of file ids'),
    v.transform((ids) => [...new Set(ids)]),
    v.maxLength(10, 'attachments must hold at most 10 files'),
  ),
);

/** A send's content: as `text`, except that it may be empty (not white space only) when files go with it. */
export const sendContent = (max: number) =>
  v.pipe(
    v.string('content must be a string'),
    v.check(storable, 'content must be valid Unicode text without NUL characters'),
    v.check((s) => codePoints(s) <= max, `content must be at most ${max} characters`),
  );
export const contentOrAttachments = <T extends { content: string; attachments?: string[] | undefined }>(p: T): boolean =>
  p.content.trim().length > 0 || (p.content === '' && (p.attachments?.length ?? 0) > 0);
export const CONTENT_REQUIRED = 'content must not be empty or only white space';

export const limit = v.optional(
  v.pipe(v.number('limit must be an integer'), v.integer('limit must be an integer'),
    v.minValue(1, 'limit must be at least 1'), v.maxValue(100, 'limit must be at most 100')),
  20,
);

export const page = v.optional(
  v.pipe(v.number('page must be an integer'), v.integer('page must be an integer'),
    v.minValue(1, 'page must be at least 1'), v.maxValue(1_000_000, 'page must be at most 1000000')),
  1,
);

/** Paging of both histories: page/limit, or a cursor on either side of a message id. */
export const historyPaging = {
  limit,
  page,
  beforeId: v.optional(messageId('beforeId')),
  afterId: v.optional(messageId('afterId')),
};

export const clientMessageId = v.optional(
  v.pipe(v.string('clientMessageId must be a string'),
    v.minLength(1, 'clientMessageId must not be empty'), v.maxLength(64, 'clientMessageId must be at most 64 characters'),
    v.check(storable, 'clientMessageId must be valid Unicode text without NUL characters')),
);

/**
 * A conversation named by `receiverId` or `groupId`: exactly one of them (PROTOCOL.md v1.1;
 * `null` counts as absent).
 */
export const conversation = {
  receiverId: v.nullish(id32('receiverId')),
  groupId: v.nullish(id32('groupId')),
};
export const exactlyOneConversation = <T extends { receiverId?: number | null | undefined; groupId?: number | null | undefined }>(p: T): boolean =>
  (p.receiverId == null) !== (p.groupId == null);
export const EXACTLY_ONE_CONVERSATION = 'Give exactly one of receiverId or groupId';

/** v1.2 `replyToId`: a message id (the statement checks it is in the same conversation). */
export const replyToId = v.optional(messageId('replyToId'));

/**
 * v1.2 `mentions`: user ids, a repeated one counted once, at most 50 distinct; sorted ascending and
 * deduplicated here (the send statement drops those that are not current members).
 */
export const mentions = v.optional(
  v.pipe(
    v.array(id32('mentions[]'), 'mentions must be an array of user ids'),
    v.transform((ids) => [...new Set(ids)].sort((a, b) => a - b)),
    v.maxLength(50, 'mentions must hold at most 50 distinct user ids'),
  ),
);

/** v1.2 `emoji`: 1..16 code points, no white space or control characters (not checked against the emoji list). */
export const emoji = v.pipe(
  v.string('emoji must be a string'),
  v.check(storable, 'emoji must be valid Unicode text without NUL characters'),
  v.check((s) => s.length > 0 && codePoints(s) <= 16, 'emoji must be 1 to 16 characters'),
  v.check((s) => !/[\s\p{Cc}]/u.test(s), 'emoji must not contain white space or control characters'),
);

// Query plans: with enough data that the planner prefers indexes, none of the statements the server
// runs for the chat list and the histories may read `messages` with a sequential scan (nor with an
// index scan that has no index condition, a sequential scan in disguise).
//
// The statements are built by the server's own code (src/db/historyReads.ts and the other db modules):
// they return postgres.js queries, which run only when awaited, so the test nests them in
// `explain (format json) ${query}` and gets the very text and parameters the server sends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import {
  chatListStatement, dialogCursorStatement, dialogPagesStatement, groupCursorStatement, groupPagesStatement, type Page,
} from '../src/db/historyReads.js';
import { createGroups } from '../src/db/groups.js';
import { createPresenceStore } from '../src/db/presence.js';
import { dialogMarksStatement, groupMarksStatement } from '../src/db/readMarkers.js';
import { deleteStatement, editStatement } from '../src/db/edits.js';
import { groupSendStatement, privateSendStatement } from '../src/db/sends.js';
import { reactionBatchStatement } from '../src/db/reactions.js';
import { claimStatement, createPushQueue, expandStatement } from '../src/db/pushQueue.js';
import { dialogPinnedStatement, groupPinnedStatement, pinLockStatement, pinStatement, unpinStatement } from '../src/db/pins.js';
import type { Sql } from '../src/db/client.js';
import { createSigner } from '../src/files/signing.js';
import { urlSigning } from '../src/db/messageRows.js';
import { CLAIM_BATCH, EXPAND_BATCH, TAKE_MAX } from '../src/push/worker.js';
import { nodeLeaveStatement, socketsApplyStatement } from '../src/db/pushSockets.js';
import { subscriptionRemoveStatement, subscriptionTrimStatement, subscriptionUpsertStatement } from '../src/db/pushSubscriptions.js';

// Message rows sign their files' URLs in the statement: the plans are read with real parameters.
const SIGNING = urlSigning(createSigner('explain-test-secret-'.repeat(3), 3600));

let db: TestDatabase;
let relay: RelayProcess;
let sql: Sql;

const USERS = 2000;
const GROUPS = 200;
const MEMBERS_PER_GROUP = 20;
const GROUP_MESSAGES = 100_000;
const PRIVATE_MESSAGES = 100_000;
const PEERS_PER_USER = 10;

before(async () => {
  db = await createTestDatabase('explain');
  // The server creates the schema (its migrations); then it is not needed any more.
  relay = await startRelay({ DATABASE_URL: db.url });
  await relay.stop();
  sql = postgres(db.url, {
    max: 1,
    onnotice: () => undefined,
    types: { bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) } },
  }) as unknown as Sql;

  await sql.unsafe(`
    insert into users (email, password_hash, first_name)
      select 'user' || i || '@example.com', 'x', 'User' || i from generate_series(1, ${USERS}) i;
    insert into groups (name, created_by)
      select 'Group ' || g, 1 + (g * 7) % ${USERS} from generate_series(1, ${GROUPS}) g;
    -- Group g: users (g-1)*10 + k for k in 0..19 (mod USERS): every user is in two groups.
    insert into group_members (group_id, user_id)
      select g, 1 + ((g - 1) * 10 + k) % ${USERS} from generate_series(1, ${GROUPS}) g, generate_series(0, ${MEMBERS_PER_GROUP - 1}) k;
    insert into messages (sender_id, group_id, content, created_at, seq)
      select 1 + (((1 + i % ${GROUPS}) - 1) * 10 + (i / ${GROUPS}) % ${MEMBERS_PER_GROUP}) % ${USERS},
             1 + i % ${GROUPS}, 'group message ' || i, now() - (${GROUP_MESSAGES + PRIVATE_MESSAGES} - i) * interval '1 second', -i
      from generate_series(1, ${GROUP_MESSAGES}) i;
    -- Each user writes to ${PEERS_PER_USER} peers: about twenty dialogs per user.
    insert into messages (sender_id, receiver_id, content, created_at, seq)
      select 1 + i % ${USERS}, 1 + (i % ${USERS} + 1 + (i / ${USERS}) % ${PEERS_PER_USER}) % ${USERS},
             'private message ' || i, now() - (${PRIVATE_MESSAGES} - i) * interval '1 second', -i
      from generate_series(1, ${PRIVATE_MESSAGES}) i;
    insert into dialogs (user_lo, user_hi)
      select distinct least(sender_id, receiver_id), greatest(sender_id, receiver_id) from messages where receiver_id is not null;
    -- Conversation state as the server keeps it (003): seqs in id order, pointers, markers.
    update messages m set seq = n.seq from (
      select id, row_number() over (partition by group_id,
        case when receiver_id is not null then least(sender_id, receiver_id) end,
        case when receiver_id is not null then greatest(sender_id, receiver_id) end order by id) as seq from messages
    ) n where m.id = n.id;
    update groups g set last_seq = l.seq, last_message_id = l.id from (
      select distinct on (group_id) group_id, id, seq from messages where group_id is not null order by group_id, id desc
    ) l where g.id = l.group_id;
    update dialogs d set last_seq = l.seq, last_message_id = l.id, lo_last_read_id = l.id, lo_last_read_seq = l.seq from (
      select distinct on (least(sender_id, receiver_id), greatest(sender_id, receiver_id))
        least(sender_id, receiver_id) as lo, greatest(sender_id, receiver_id) as hi, id, seq
      from messages where receiver_id is not null order by least(sender_id, receiver_id), greatest(sender_id, receiver_id), id desc
    ) l where d.user_lo = l.lo and d.user_hi = l.hi;
    update group_members gm set last_read_id = g.last_message_id, last_read_seq = g.last_seq - 5 from groups g where g.id = gm.group_id;
    -- Each conversation row's copy of its newest message (006).
    update groups g set last_sender_id = m.sender_id, last_content = m.content, last_created_at = m.created_at,
      last_updated_at = m.updated_at, last_deleted_at = m.deleted_at from messages m where m.id = g.last_message_id;
    update dialogs d set last_sender_id = m.sender_id, last_content = m.content, last_created_at = m.created_at,
      last_updated_at = m.updated_at, last_deleted_at = m.deleted_at from messages m where m.id = d.last_message_id;
    -- v1.2 (007): one message in ten replies to the one before it, a third carry reactions, a few are
    -- pinned, and members have unread mentions.
    update messages set reply_to_id = id - 1 where id % 10 = 0;
    update messages set (reactions, reactions_view, reactors) = (select r, relay_reactions_view(r), relay_reactors(r) from (
      select jsonb_build_array(jsonb_build_array('👍', jsonb_build_array(sender_id, 1 + sender_id % 7))) as r) n) where id % 3 = 0;
    update messages set pinned_at = created_at, pinned_by = sender_id where id % 997 = 0;
    update group_members set mention_seqs = array[3, 4, 5]::bigint[] where user_id % 4 = 0;
  `);
  await sql.unsafe('analyze');
});

after(async () => {
  await sql?.end();
  await relay?.stop();
  await db?.drop();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Plan Rows'?: number;
  'Total Cost'?: number;
  Plans?: PlanNode[];
  [k: string]: unknown;
}

function* nodes(n: PlanNode): Generator<PlanNode> {
  yield n;
  for (const child of n.Plans ?? []) yield* nodes(child);
}

/** The plan as an indented tree, one node a line. */
function render(n: PlanNode, depth = 0): string {
  const on = n['Relation Name'] ? ` on ${n['Relation Name']}` : '';
  const via = n['Index Name'] ? ` using ${n['Index Name']}` : '';
  const cond = n['Index Cond'] ? ` [${String(n['Index Cond'])}]` : '';
  const line = `${'  '.repeat(depth)}-> ${n['Node Type']}${on}${via}${cond} (rows=${n['Plan Rows']} cost=${n['Total Cost']})`;
  return [line, ...(n.Plans ?? []).map((c) => render(c, depth + 1))].join('\n');
}

function assertNoSeqScanOnMessages(label: string, plan: PlanNode): void {
  console.log(`\n=== ${label}\n${render(plan)}\n--- JSON\n${JSON.stringify(plan)}`);
  const scans = [...nodes(plan)].filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'messages');
  assert.equal(scans.length, 0, `${label}: sequential scan on messages\n${render(plan)}`);
  // An index scan that only filters (e.g. the primary key walked backwards, "Filter: group_id = 99")
  // reads the whole table all the same: every index scan on messages must have an index condition.
  const onMessages = [...nodes(plan)].filter((n) => n['Relation Name'] === 'messages');
  assert.ok(onMessages.length > 0, `${label}: messages not in the plan`);
  for (const n of onMessages) {
    if (n['Node Type'] === 'Index Scan' || n['Node Type'] === 'Index Only Scan') {
      assert.ok(n['Index Cond'], `${label}: ${n['Node Type']} on messages using ${n['Index Name']} without an index condition (filter: ${String(n.Filter)})\n${render(plan)}`);
    }
  }
}

type Pending = { describe(): Promise<{ string: string; types: number[] }> } & PromiseLike<unknown>;

/** EXPLAIN of the query exactly as built by the server, with its parameters bound (a custom plan). */
async function explainBound(query: unknown): Promise<PlanNode> {
  // A query nested in a template is inlined as a fragment, its parameters renumbered.
  const fragment = query as postgres.PendingQuery<postgres.Row[]>;
  const [row] = await (sql as unknown as postgres.Sql)`explain (format json) ${fragment}`;
  return (row as unknown as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
}

/**
 * The server prepares its statements (prepare: true) and PostgreSQL may switch a prepared
 * statement to a generic plan, built without the parameter values. This prepares the same text
 * and explains the generic plan.
 */
async function explainGeneric(query: Pending, values: (number | string)[]): Promise<PlanNode> {
  const described = await query.describe();
  assert.equal(described.types.length, values.length, 'one value per parameter');
  const conn = await (sql as unknown as postgres.Sql).reserve();
  try {
    const typeNames = await Promise.all(described.types.map(async (oid) => {
      const [t] = await conn<{ name: string }[]>`select format_type(${oid}::oid, null) as name`;
      return t!.name;
    }));
    await conn.unsafe(`prepare relay_explain (${typeNames.join(', ')}) as ${described.string}`);
    await conn.unsafe('set plan_cache_mode = force_generic_plan');
    const [row] = await conn.unsafe(`explain (format json) execute relay_explain (${values.map((v) => (typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`)).join(', ')})`);
    await conn.unsafe('deallocate relay_explain');
    await conn.unsafe('reset plan_cache_mode');
    return (row as unknown as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
  } finally {
    conn.release();
  }
}

/** The parameter values in the order the statement numbers them. */
async function parametersOf(build: () => unknown): Promise<(number | string)[]> {
  const q = build() as Pending & { parameters?: unknown[] };
  await q.describe();
  assert.ok(Array.isArray(q.parameters), 'postgres.js exposes the bound parameters');
  return (q.parameters as unknown[]).map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v)
    : typeof v === 'string' && !/^-?\d+$/.test(v) ? v : Number(v)));
}

async function pickUser(): Promise<{ me: number; peer: number; groupId: number }> {
  const [r] = await sql<{ me: number; peer: number; groupId: number }[]>`
    select d.user_lo as me, d.user_hi as peer,
           (select group_id from group_members where user_id = d.user_lo limit 1) as "groupId"
    from dialogs d where d.user_lo = 1000 limit 1`;
  assert.ok(r, 'the seed made dialogs');
  return r;
}

test('the seed is large enough to matter', async () => {
  const [c] = await sql<{ n: number }[]>`select count(*)::int as n from messages`;
  assert.equal(c!.n, GROUP_MESSAGES + PRIVATE_MESSAGES);
  const { me } = await pickUser();
  const [d] = await sql<{ n: number }[]>`select count(*)::int as n from dialogs where user_lo = ${me} or user_hi = ${me}`;
  assert.ok(d!.n >= 10, `user ${me} has ${d!.n} dialogs`);
});

// `groups` is left out: reached by primary key, but the seed's 200 rows make a scan cheaper.
const V11_TABLES = ['group_members', 'dialogs', 'users'];

// The chat list reads each conversation's newest message from the conversation row's copy (006):
// `messages` is not in its plan at all, and the conversations are reached through indexes.
function assertChatListPlan(label: string, plan: PlanNode): void {
  assertIndexedOn(label, plan, [...V11_TABLES, 'messages']);
  assert.ok(![...nodes(plan)].some((n) => n['Relation Name'] === 'messages'), `${label}: reads messages\n${render(plan)}`);
}

test('chat list (listLastMessage) reads conversations through indexes only, and no messages', async () => {
  const { me, peer } = await pickUser();
  for (const [limit, offset] of [[20, 0], [5, 10]] as const) {
    const plan = await explainBound(chatListStatement(sql, [{ userId: me, skip: offset, take: limit }]));
    assertChatListPlan(`chatList(me=${me}, limit=${limit}, offset=${offset}) [bound parameters]`, plan);
  }
  const batch = () => chatListStatement(sql, [{ userId: me, skip: 0, take: 20 }, { userId: peer, skip: 0, take: 20 }]);
  assertChatListPlan(`chatList(me=${me}, ${peer}) [bound parameters]`, await explainBound(batch()));
  assertChatListPlan(`chatList(me=${me}, ${peer}) [generic plan]`, await explainGeneric(batch() as unknown as Pending, await parametersOf(batch)));
});

/** Every way a history is paged, checked with bound parameters and as the generic plan. */
async function assertHistoryIndexed(name: string, lastId: number, build: (page: Page) => unknown): Promise<void> {
  const pages = [
    ['page 1', { limit: 20, offset: 0 }],
    ['page 3', { limit: 20, offset: 40 }],
    ['beforeId', { limit: 20, offset: 0, beforeId: lastId }],
    ['afterId', { limit: 20, offset: 0, afterId: 1 }],
  ] as const;
  for (const [label, page] of pages) {
    assertNoSeqScanOnMessages(`${name}, ${label}) [bound parameters]`, await explainBound(build(page) as Pending));
    const query = () => build(page) as Pending;
    assertNoSeqScanOnMessages(`${name}, ${label}) [generic plan]`, await explainGeneric(query(), await parametersOf(query)));
  }
}

/** The statement the server runs for one request of that page (pages by number are batched, cursors are not). */
const dialogQuery = (me: number, peer: number, page: Page): unknown =>
  page.beforeId === undefined && page.afterId === undefined
    ? dialogPagesStatement(sql, [{ me, lo: Math.min(me, peer), hi: Math.max(me, peer), skip: page.offset, take: page.limit }], SIGNING)
    : dialogCursorStatement(sql, me, peer, page, SIGNING);

const groupQuery = (me: number, groupId: number, page: Page): unknown =>
  page.beforeId === undefined && page.afterId === undefined
    ? groupPagesStatement(sql, [{ userId: me, groupId, skip: page.offset, take: page.limit }], SIGNING)
    : groupCursorStatement(sql, me, groupId, page, SIGNING);

test('dialog history (getlatestMessageDialog) reads messages through indexes only', async () => {
  const { me, peer } = await pickUser();
  const [last] = await sql<{ id: number }[]>`
    select max(id)::int as id from messages where least(sender_id, receiver_id) = ${me} and greatest(sender_id, receiver_id) = ${peer}`;
  await assertHistoryIndexed(`dialogHistory(${me}, ${peer}`, last!.id, (page) => dialogQuery(me, peer, page));
});

test('group history (getlatestMessageGroup) reads messages through indexes only', async () => {
  const { me, groupId } = await pickUser();
  const [last] = await sql<{ id: number }[]>`select max(id)::int as id from messages where group_id = ${groupId}`;
  await assertHistoryIndexed(`groupHistory(${groupId}`, last!.id, (page) => groupQuery(me, groupId, page));
});

// The batched reads take their items as one jsonb parameter, whose row estimate does not depend on
// the batch: PostgreSQL must then keep each prepared statement on its generic plan instead of
// planning every call (with an int[] parameter a custom plan knew the length and always won).
test('the batched history reads stay on their generic plans', async () => {
  const { me, peer, groupId } = await pickUser();
  const conn = await (sql as unknown as postgres.Sql).reserve();
  try {
    const c = conn as unknown as Sql;
    for (let i = 0; i < 12; i++) {
      const n = 1 + (i % 3);
      const users = Array.from({ length: n }, (_, k) => me + k);
      await chatListStatement(c, users.map((userId) => ({ userId, skip: 0, take: 20 })));
      await dialogPagesStatement(c, users.map(() => ({ me, lo: Math.min(me, peer), hi: Math.max(me, peer), skip: 0, take: 20 })), SIGNING);
      await groupPagesStatement(c, users.map((userId) => ({ userId, groupId, skip: 0, take: 20 })), SIGNING);
    }
    const rows = await conn<{ statement: string; generic: number; custom: number }[]>`
      select statement, generic_plans::int as generic, custom_plans::int as custom
      from pg_prepared_statements
      -- describe() in the tests above prepares copies that never run: only the ones run here count.
      where statement like '%jsonb_to_recordset%' and statement not ilike '%explain%' and generic_plans + custom_plans >= 12`;
    assert.equal(rows.length, 3, 'three prepared statements');
    for (const r of rows) {
      assert.ok(r.generic >= 7 && r.custom <= 5, `generic ${r.generic}, custom ${r.custom}: ${r.statement.slice(0, 120)}`);
    }
  } finally {
    conn.release();
  }
});

/** No sequential scan on any of `tables`, nor an index scan on them without an index condition. */
function assertIndexedOn(label: string, plan: PlanNode, tables: string[]): void {
  console.log(`\n=== ${label}\n${render(plan)}`);
  for (const n of nodes(plan)) {
    const rel = n['Relation Name'];
    if (!rel || !tables.includes(rel)) continue;
    assert.notEqual(n['Node Type'], 'Seq Scan', `${label}: sequential scan on ${rel}\n${render(plan)}`);
    if (n['Node Type'] === 'Index Scan' || n['Node Type'] === 'Index Only Scan') {
      assert.ok(n['Index Cond'], `${label}: ${n['Node Type']} on ${rel} without an index condition\n${render(plan)}`);
    }
  }
}

/** Bound parameters and the generic plan of one server query. */
async function assertQueryIndexed(label: string, build: () => unknown, tables: string[]): Promise<void> {
  assertIndexedOn(`${label} [bound parameters]`, await explainBound(build()), tables);
  const values = await parametersOf(build);
  if (values.every((v) => Number.isFinite(v))) {
    assertIndexedOn(`${label} [generic plan]`, await explainGeneric(build() as Pending, values), tables);
  }
}


test('group roles: getGroup, getGroupMembers and typing targets read through indexes only', async () => {
  const groups = createGroups(sql);
  const { me, groupId } = await pickUser();
  await assertQueryIndexed(`info(${groupId}, ${me})`, () => groups.info(groupId, me), V11_TABLES);
  await assertQueryIndexed(`members(${groupId}, ${me})`, () => groups.members(groupId, me, 20, 0), V11_TABLES);
  await assertQueryIndexed(`typingTargets(${groupId}, ${me})`, () => groups.typingTargets(groupId, me), V11_TABLES);
});

test('presence: getPresence visibility and the push recipients read through indexes only', async () => {
  const presence = createPresenceStore(sql);
  const { me, peer } = await pickUser();
  // Arrays are bound parameters: only the custom plan is checked for these.
  const ids = [peer, me + 1, me + 500, 3];
  assertIndexedOn('visible [bound parameters]', await explainBound(presence.visible(me, ids)), V11_TABLES);
  assertIndexedOn('partners [bound parameters]', await explainBound(presence.partners([me, peer, 17])), V11_TABLES);
});

/**
 * A statement the server runs for one request (scalar parameters), with bound parameters and as
 * its generic plan: `messages` and the v1.1 tables through indexes only. Answers the generic plan.
 */
async function assertWriteIndexed(label: string, build: () => unknown): Promise<PlanNode> {
  assertNoSeqScanOnMessages(`${label} [bound parameters]`, await explainBound(build()));
  const query = () => build() as Pending;
  const generic = await explainGeneric(query(), await parametersOf(query));
  assertNoSeqScanOnMessages(`${label} [generic plan]`, generic);
  assertIndexedOn(`${label} [generic plan]`, generic, V11_TABLES);
  return generic;
}

test('v1.2: sends with replies and mentions, reactions, pins and getPinned reach messages through indexes only', async () => {
  const { me, peer, groupId } = await pickUser();
  const [g] = await sql<{ id: number }[]>`select last_message_id as id from groups where id = ${groupId}`;
  const [d] = await sql<{ id: number }[]>`select last_message_id as id from dialogs where user_lo = ${me} and user_hi = ${peer}`;
  const [other] = await sql<{ user_id: number }[]>`select user_id from group_members where group_id = ${groupId} and user_id <> ${me} limit 1`;
  // Sends and reactions are batched (array parameters): bound parameters only, and plain EXPLAIN plans them without writing.
  const sends: [string, () => unknown][] = [
    ['messageInGroup with replyToId and mentions', () => groupSendStatement(sql, [
      { senderId: me, groupId, content: 'x', clientMessageId: null, replyToId: g!.id, mentions: [other!.user_id, 7] },
      { senderId: other!.user_id, groupId, content: 'y', clientMessageId: 'c1', replyToId: null, mentions: null },
    ])],
    ['privateMessage with replyToId', () => privateSendStatement(sql, [
      { senderId: me, receiverId: peer, content: 'x', clientMessageId: null, replyToId: d!.id },
      { senderId: peer, receiverId: me, content: 'y', clientMessageId: 'c2', replyToId: null },
    ])],
    ['addReaction / removeReaction (batched)', () => reactionBatchStatement(sql, [
      { userId: me, messageId: g!.id, emoji: '👍', op: 'add' },
      { userId: peer, messageId: d!.id, emoji: '👍', op: 'remove' },
    ])],
  ];
  for (const [label, build] of sends) {
    const plan = await explainBound(build());
    assertNoSeqScanOnMessages(`${label} [bound parameters]`, plan);
    assertIndexedOn(`${label} [bound parameters]`, plan, V11_TABLES);
  }
  const statements: [string, () => unknown][] = [
    ['pinMessage lock (group)', () => pinLockStatement(sql, me, g!.id)],
    ['pinMessage lock (dialog)', () => pinLockStatement(sql, me, d!.id)],
    ['pinMessage', () => pinStatement(sql, me, g!.id)],
    ['unpinMessage', () => unpinStatement(sql, me, d!.id)],
    ['getPinned (group)', () => groupPinnedStatement(sql, me, groupId, SIGNING)],
    ['getPinned (dialog)', () => dialogPinnedStatement(sql, me, peer, SIGNING)],
  ];
  for (const [label, build] of statements) await assertWriteIndexed(label, build);
  // The pins are counted and listed from their partial indexes.
  for (const [label, build, index] of [
    ['pinMessage (group)', () => pinStatement(sql, me, g!.id), 'messages_group_pinned_idx'],
    ['pinMessage (dialog)', () => pinStatement(sql, me, d!.id), 'messages_dialog_pinned_idx'],
    ['getPinned (group)', () => groupPinnedStatement(sql, me, groupId, SIGNING), 'messages_group_pinned_idx'],
    ['getPinned (dialog)', () => dialogPinnedStatement(sql, me, peer, SIGNING), 'messages_dialog_pinned_idx'],
  ] as const) {
    const plan = await explainBound(build());
    assert.ok([...nodes(plan)].some((n) => n['Index Name'] === index), `${label}: reads ${index}\n${render(plan)}`);
  }
});

test('markRead, editMessage and deleteMessage reach messages through indexes only', async () => {
  const { me, peer, groupId } = await pickUser();
  const [g] = await sql<{ id: number }[]>`select last_message_id as id from groups where id = ${groupId}`;
  const [d] = await sql<{ id: number }[]>`select last_message_id as id from dialogs where user_lo = ${me} and user_hi = ${peer}`;
  // EXPLAIN without ANALYZE plans a writing statement without running it.
  // markRead is group-committed: its parameters are arrays (one element per request), checked
  // with bound parameters only (the generic-plan helper takes scalar parameters).
  const batches: [string, () => unknown][] = [
    ['markRead (group)', () => groupMarksStatement(sql, [{ userId: me, groupId, messageId: g!.id }, { userId: peer, groupId, messageId: g!.id }])],
    ['markRead (dialog)', () => dialogMarksStatement(sql, [{ userId: me, peerId: peer, messageId: d!.id }, { userId: peer, peerId: me, messageId: d!.id }])],
  ];
  for (const [label, build] of batches) assertNoSeqScanOnMessages(`${label} [bound parameters]`, await explainBound(build()));
  const statements: [string, () => unknown][] = [
    ['editMessage', () => editStatement(sql, me, d!.id, 'edited', SIGNING)],
    ['deleteMessage', () => deleteStatement(sql, me, g!.id)],
  ];
  for (const [label, build] of statements) {
    // The copy of a conversation's newest message (006) is found by key: the dialog by both its users.
    const generic = await assertWriteIndexed(label, build);
    assert.ok([...nodes(generic)].some((n) => n['Relation Name'] === 'dialogs' && /user_lo = .*user_hi = |user_hi = .*user_lo = /.test(String(n['Index Cond']))),
      `${label}: the dialog's copy by both its users\n${render(generic)}`);
  }
});

test('notifications: expand and claim (mentions, blocks, mutes, folding state) read through indexes only; expand reads no message beyond its batch', async () => {
  // The outbox holds the newest 10 group and 40 private messages (a third of the group ones mention
  // two members): a batch small against the tables, as in steady state, so the plans show the access
  // paths. (A backlog touching every conversation rightly reads small tables whole, by hash.) Every
  // user blocks 200 others (400 000 blocks: a table large against a batch's probes), mutes 5
  // dialogs, holds a subscription and a folding state row per group, half of them waiting; a node
  // holds sockets of a tenth of the users.
  await sql.unsafe(`
    update messages set mentions = array[1 + sender_id % ${USERS}, 1 + (sender_id + 10) % ${USERS}] where group_id is not null and id % 3 = 0;
    insert into push_outbox (message_id)
      (select id from messages where group_id is not null order by id desc limit 10)
      union all (select id from messages where receiver_id is not null order by id desc limit 40);
    insert into blocks (blocker_id, blocked_id)
      select u, 1 + (u + k) % ${USERS} from generate_series(1, ${USERS}) u, generate_series(1, 200) k;
    insert into conversation_mutes (user_id, group_id, peer_id)
      select u, 0, 1 + (u + k) % ${USERS} from generate_series(1, ${USERS}) u, generate_series(1, 5) k on conflict do nothing;
    insert into push_subscriptions (user_id, endpoint, p256dh, auth)
      select u, 'https://push.example/' || u, 'k', 'a' from generate_series(1, ${USERS}) u;
    insert into push_state (user_id, group_id, peer_id, pending_id, due_at, sent_id, sent_at)
      select gm.user_id, gm.group_id, 0, case when gm.user_id % 2 = 0 then g.last_message_id end, now(), 0, now() - interval '1 minute'
      from group_members gm join groups g on g.id = gm.group_id;
    insert into push_nodes (node_id, alive_until) values ('n1', now() + interval '1 minute');
    insert into push_sockets (user_id, node_id) select u, 'n1' from generate_series(1, ${USERS}, 10) u;
  `);
  await sql.unsafe('analyze');
  // group_members and groups are left out: the batch's groups join them as before mentions and blocks
  // came in, planned from the batch's row estimate (a merge over the whole key of the fixture's 200
  // groups and their 4000 memberships).
  const tables = ['messages', 'blocks', 'dialogs', 'users', 'conversation_mutes', 'push_state', 'push_subscriptions'];
  const statements = [
    ['expand (50 messages, webhook off)', () => expandStatement(sql, 2000, false, 5000)],
    ['expand (50 messages, webhook on)', () => expandStatement(sql, 2000, true, 5000)],
    ['claim (20 due)', () => claimStatement(sql, 20, true)],
  ] as const;
  for (const [label, build] of statements) {
    const plan = await explainBound(build());
    assertNoSeqScanOnMessages(`${label} [bound parameters]`, plan);
    // The batch's mentions are read off the rows it took: messages only by primary key (expand:
    // one probe per outbox row; claim: the message each notification describes).
    const onMessages = [...nodes(plan)].filter((n) => n['Relation Name'] === 'messages');
    assert.ok(onMessages.every((n) => n['Index Name'] === 'messages_pkey'), `${label}: messages by key only\n${render(plan)}`);
  }
  // The other tables are small here (2000 subscriptions, 10 000 mutes) against a batch's probes,
  // and the planner rightly hashes them whole. With sequential scans priced out, the plan shows that
  // each access has an index to take as the tables grow (a table with none would still be scanned).
  await sql.unsafe('set enable_seqscan = off');
  try {
    for (const [label, build] of statements) assertIndexedOn(`${label} [bound parameters, enable_seqscan off]`, await explainBound(build()), tables);
  } finally {
    await sql.unsafe('reset enable_seqscan');
  }
});

// Notifications to offline devices (010_push.sql): the tables grow with the users (subscriptions,
// folding state, mutes), with the backlog (outbox, deliveries retried for an hour) and with the
// connected users (socket rows). push_nodes is left out: one row per node.
const BOOL = 16;
const PUSH_TABLES = ['push_subscriptions', 'push_outbox', 'push_sockets', 'push_state', 'push_deliveries', 'conversation_mutes'];
// Users who are in no conversation of the seed but have devices, sockets and state: a batch of
// the worker then concerns a small part of each table, as it does in production (with only the
// seed's 2000 users, a batch of the worker (2000 messages) reaches every one of them and reading whole tables
// is the right plan).
const PUSH_SEED = { moreUsers: 300_000, subscriptionsPerUser: 2, nodes: 4, outbox: 200_000, deliveries: 200_000 };

/** More of every push table, on top of what the test above put there (the rows it made are kept). */
async function seedPush(): Promise<void> {
  const users = USERS + PUSH_SEED.moreUsers;
  await sql.unsafe(`
    insert into users (email, password_hash, first_name)
      select 'more' || i || '@example.com', 'x', 'More' || i from generate_series(1, ${PUSH_SEED.moreUsers}) i;
    insert into push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
      select u, 'https://fcm.googleapis.com/fcm/send/' || u || '-' || k, 'p256dh', 'auth', now() - k * interval '1 day'
      from generate_series(1, ${users}) u, generate_series(1, ${PUSH_SEED.subscriptionsPerUser}) k;
    insert into push_nodes (node_id, alive_until) select 'node-' || n, now() + interval '1 minute' from generate_series(1, ${PUSH_SEED.nodes}) n;
    -- Half the users online, on one node or two.
    insert into push_sockets (user_id, node_id)
      select u, 'node-' || (1 + u % ${PUSH_SEED.nodes}) from generate_series(1, ${users}, 2) u
      union all select u, 'node-' || (1 + (u + 1) % ${PUSH_SEED.nodes}) from generate_series(1, ${users}, 6) u;
    insert into push_outbox (message_id) select id from messages order by id desc limit ${PUSH_SEED.outbox} on conflict do nothing;
    -- Every member's state in each of its groups and every dialog's two users; one in twenty waits.
    insert into push_state (user_id, group_id, peer_id, pending_id, due_at, sent_id, sent_at)
      select gm.user_id, gm.group_id, 0, case when gm.user_id % 20 = 0 then g.last_message_id end,
             case when gm.user_id % 20 = 0 then now() - (gm.user_id % 7) * interval '1 second' end, g.last_message_id - 1, now() - interval '1 hour'
      from group_members gm join groups g on g.id = gm.group_id
      on conflict do nothing;
    insert into push_state (user_id, group_id, peer_id, pending_id, due_at, sent_id, sent_at)
      select d.user_lo, 0, d.user_hi, case when d.user_lo % 20 = 1 then d.last_message_id end,
             case when d.user_lo % 20 = 1 then now() + (d.user_hi % 5) * interval '1 second' end, d.last_message_id - 1, now() - interval '1 hour'
      from dialogs d
      union all
      select d.user_hi, 0, d.user_lo, null, null, d.last_message_id, now() - interval '1 hour' from dialogs d
      union all
      -- The other users' dialogs with each other, done with.
      select u, 0, u + 1, null, null, 1, now() - interval '1 day' from generate_series(${USERS + 1}, ${users} - 1) u
      on conflict do nothing;
    insert into conversation_mutes (user_id, group_id, peer_id, muted_until)
      select user_id, group_id, peer_id, case when user_id % 2 = 0 then now() + interval '1 day' end from push_state where user_id % 3 = 0
      on conflict do nothing;
    -- A backlog: deliveries leased or waiting for their retry, a few due.
    insert into push_deliveries (subscription_id, user_id, payload, urgent, message_created_at, next_at)
      select s.id, s.user_id, '{"type":"message"}', i % 2 = 0, now(), now() + (i % 3600 - 10) * interval '1 second'
      from generate_series(1, ${PUSH_SEED.deliveries}) i
      join push_subscriptions s on s.id = (select min(id) from push_subscriptions) + i % (${users} * ${PUSH_SEED.subscriptionsPerUser});
  `);
  await sql.unsafe('analyze');
}

/**
 * Like assertIndexedOn, but an index scan without an index condition is admitted under a Limit:
 * the worker's steps take the first rows in index order (the outbox by message id, the due
 * notifications and deliveries by time), and such a scan stops after the limit.
 */
function assertTakesIndexed(label: string, plan: PlanNode, tables: string[]): void {
  console.log(`\n=== ${label}\n${render(plan)}`);
  const walk = (n: PlanNode, limited: boolean): void => {
    const rel = n['Relation Name'];
    if (rel && tables.includes(rel)) {
      assert.notEqual(n['Node Type'], 'Seq Scan', `${label}: sequential scan on ${rel}\n${render(plan)}`);
      if (n['Node Type'] === 'Index Scan' || n['Node Type'] === 'Index Only Scan') {
        assert.ok(n['Index Cond'] || limited, `${label}: ${n['Node Type']} on ${rel} without an index condition nor a limit\n${render(plan)}`);
      }
    }
    for (const child of n.Plans ?? []) walk(child, limited || n['Node Type'] === 'Limit');
  };
  walk(plan, false);
}

test('push queue: outbox take and expand, claim, deliveries take, socket ledger and subscriptions read through indexes only', async () => {
  await seedPush();
  const [c] = await sql<{ n: number }[]>`select count(*)::int as n from push_deliveries`;
  assert.equal(c!.n, PUSH_SEED.deliveries, 'the seed made the delivery backlog');
  const queue = createPushQueue(sql);
  // group_members is left out: a batch of the worker (2000 messages) covers all the seed's 200 groups, so
  // expand reading it whole is the right plan (reads per group are checked above).
  const tables = [...PUSH_TABLES, 'users', 'dialogs', 'messages'];
  const { me, peer } = await pickUser();
  const [sub] = await sql<{ id: number; endpoint: string }[]>`select id, endpoint from push_subscriptions where user_id = ${me} limit 1`;
  const statements: [string, () => unknown][] = [
    // The outbox take is expand's first step. The worker's own batch sizes.
    ['expand (subscriptions only)', () => expandStatement(sql, EXPAND_BATCH, false, 5000)],
    ['expand (with the webhook)', () => expandStatement(sql, EXPAND_BATCH, true, 5000)],
    ['claim', () => claimStatement(sql, CLAIM_BATCH, false)],
    ['claim (with the webhook)', () => claimStatement(sql, CLAIM_BATCH, true)],
    ['deliveries take', () => queue.take(TAKE_MAX, 15_000)],
    ['subscribe (upsert)', () => subscriptionUpsertStatement(sql, { userId: me, endpoint: sub!.endpoint, p256dh: 'p', auth: 'a' })],
    ['subscribe (trim to the limit)', () => subscriptionTrimStatement(sql, me)],
    ['unsubscribe', () => subscriptionRemoveStatement(sql, me, sub!.endpoint)],
    ['node leaves (its socket rows by cascade)', () => nodeLeaveStatement(sql, 'node-1')],
  ];
  for (const [label, build] of statements.filter(([l]) => !l.startsWith('expand'))) {
    assertTakesIndexed(`${label} [bound parameters]`, await explainBound(build()), tables);
    // Booleans (the webhook flag) are given to EXECUTE as text: an integer would not coerce.
    const { types } = await (build() as Pending).describe();
    const values = (await parametersOf(build)).map((v, i) => (types[i] === BOOL ? String(v === 1) : v));
    assertTakesIndexed(`${label} [generic plan]`, await explainGeneric(build() as Pending, values), tables);
  }
  // expand's batch reaches every member of the seed's groups (some 3500 recipients estimated), and
  // for that many the planner hashes whole tables (the outbox joined back, the socket rows, the
  // mutes: which of them varies with the seed) rather than probing their keys: its cost, not a
  // missing index. So its plan is printed as chosen, and checked with sequential scans priced out
  // (enable_seqscan off): a table that still has one there has no index for that access path.
  // group_members is left out, as in the check above: the batch's groups are merged over its key.
  for (const [label, build] of statements.filter(([l]) => l.startsWith('expand'))) {
    console.log(`\n=== ${label} [bound parameters, as planned]\n${render(await explainBound(build()))}`);
    await sql.unsafe('set enable_seqscan = off');
    try {
      assertTakesIndexed(`${label} [bound parameters, enable_seqscan off]`, await explainBound(build()), tables);
    } finally {
      await sql.unsafe('reset enable_seqscan');
    }
  }
  // Array parameters: bound parameters only.
  assertTakesIndexed('socket ledger apply [bound parameters]',
    await explainBound(socketsApplyStatement(sql, 'node-1', [me, peer, 17], [me + 1, me + 3])), tables);
  // The outbox is taken from its primary key in order, and the due rows from their partial indexes.
  for (const [label, build, index] of [
    ['expand', () => expandStatement(sql, EXPAND_BATCH, false, 5000), 'push_outbox_pkey'],
    ['claim', () => claimStatement(sql, CLAIM_BATCH, false), 'push_state_due_idx'],
    ['deliveries take', () => queue.take(TAKE_MAX, 15_000), 'push_deliveries_next_idx'],
  ] as const) {
    const plan = await explainBound(build());
    assert.ok([...nodes(plan)].some((n) => n['Index Name'] === index), `${label}: reads ${index}\n${render(plan)}`);
  }
});

// Deleting a subscription (unsubscribe, the 11th registered, a 404/410, a password change) deletes
// its deliveries by cascade: PostgreSQL runs this statement per deleted row, out of EXPLAIN's sight.
test('push: the cascade from a deleted subscription to its deliveries reads through an index', async () => {
  const [sub] = await sql<{ id: number }[]>`select subscription_id::int as id from push_deliveries limit 1`;
  assert.ok(sub, 'push_deliveries is seeded (the test above)');
  const cascade = () => sql`delete from only push_deliveries where subscription_id = ${sub.id}`;
  await assertQueryIndexed('on delete cascade push_subscriptions -> push_deliveries', cascade, PUSH_TABLES);
});

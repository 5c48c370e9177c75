// v1.2 "Search" over real sockets: searchMessages matching (word prefixes in any cased script),
// its scope (the caller's dialogs, the groups it is in now, their whole history), deleted and
// edited messages, highlights in code points, beforeId paging, limits and query validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp } from './helpers/client.js';
import { useRelay, ok, errorOf, assertIsoDate } from './helpers/protocol.js';

const fx = useRelay('ws_search', { AUTH_RATE_PER_MINUTE: '100000' });
const { connect } = fx;

const ROW_KEYS = ['attachments', 'content', 'createdAt', 'editedAt', 'groupId', 'groupName', 'highlights', 'id', 'mentions',
  'reactions', 'receiverId', 'receiverName', 'replyTo', 'senderId', 'senderName', 'seq'];

const ids = (rows: { id: number }[]): number[] => rows.map((r) => r.id);

test('searchMessages: every query word begins some word, in any script that has case; rows in full', async () => {
  const a = await signUp(fx.relay.http, 'Anya');
  const b = await signUp(fx.relay.http, 'Boris');
  const a1 = await connect(a);
  const hello = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'Hello, world!' });
  const privet = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'Привет, МИР. Как дела?' });
  const greek = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'ΚΑΛΗΜΕΡΑ Ελλάδα' });
  const mixed = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'Straße42 und ÄRGER' });

  const [row] = await ok(a1, 'searchMessages', { query: 'hel WOR' });
  assert.deepEqual(Object.keys(row).sort(), ROW_KEYS);
  assert.deepEqual({ ...row, createdAt: null }, {
    id: hello.id, seq: hello.seq, senderId: a.id, senderName: 'Anya', receiverId: b.id, receiverName: 'Boris',
    groupId: null, groupName: null, content: 'Hello, world!', createdAt: null, editedAt: null,
    replyTo: null, mentions: [], reactions: [], attachments: [], highlights: [[0, 5], [7, 12]],
  });
  assert.equal(row.createdAt, hello.createdAt);
  assertIsoDate(row.createdAt, 'createdAt');

  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: 'прив' })), [privet.id]);
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: 'ПРИВЕТ мир' })), [privet.id]);
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: 'καλημ ελλ' })), [greek.id]);
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: 'straße42' })), [mixed.id]);
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: 'är' })), [mixed.id]);
  // Only beginnings of words, and every query word must match.
  assert.deepEqual(await ok(a1, 'searchMessages', { query: 'ello' }), []);
  assert.deepEqual(await ok(a1, 'searchMessages', { query: 'orld' }), []);
  assert.deepEqual(await ok(a1, 'searchMessages', { query: 'hello привет' }), []);
  // Punctuation separates words in the query as in the content.
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: '...hello,,,world!!!' })), [hello.id]);
  // The receiver finds it too.
  const b1 = await connect(b);
  assert.deepEqual(ids(await ok(b1, 'searchMessages', { query: 'мир' })), [privet.id]);
  const [p] = await ok(b1, 'searchMessages', { query: 'как дел' });
  assert.deepEqual(p.highlights, [[13, 16], [17, 21]]);
});

test('searchMessages rows carry replyTo, mentions and reactions as every message row does (reactions as the caller sees them)', async () => {
  const a = await signUp(fx.relay.http, 'Kai');
  const b = await signUp(fx.relay.http, 'Lia');
  const [a1, b1] = await Promise.all([connect(a), connect(b)]);
  const g = await ok(a1, 'newGroup', { groupName: 'Rows' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const q = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'where is the capybara doc?' });
  const m = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'capybara doc is here', replyToId: q.id, mentions: [b.id] });
  await ok(b1, 'addReaction', { messageId: m.id, emoji: '👍' });
  const [mine, theirs] = await ok(a1, 'searchMessages', { query: 'capy' });
  assert.deepEqual([mine.id, theirs.id], [m.id, q.id]);
  assert.deepEqual(mine.replyTo, { id: q.id, seq: q.seq, senderId: b.id, senderName: 'Lia', content: 'where is the capybara doc?', deletedAt: null });
  assert.deepEqual(mine.mentions, [b.id]);
  assert.deepEqual(mine.reactions, [{ emoji: '👍', count: 1, me: false }]);
  assert.deepEqual([theirs.replyTo, theirs.mentions, theirs.reactions], [null, [], []]);
  const [seenByB] = await ok(b1, 'searchMessages', { query: 'capybara here' });
  assert.deepEqual(seenByB.reactions, [{ emoji: '👍', count: 1, me: true }]);
});

test('searchMessages: highlights are code point offsets of every word some query word begins', async () => {
  const a = await signUp(fx.relay.http, 'Cleo');
  const a1 = await connect(a);
  const content = '😀 zebra zebras, zeb! Zebu 𝒳zebra';
  const m = await ok(a1, 'privateMessage', { receiverId: a.id, content });
  const [row] = await ok(a1, 'searchMessages', { query: 'zeb' });
  assert.equal(row.id, m.id);
  // "😀" and "𝒳" are one code point each (two UTF-16 units); "𝒳" is a letter, so "𝒳zebra" is one word.
  assert.deepEqual(row.highlights, [[2, 7], [8, 14], [16, 19], [21, 25]]);
  const points = Array.from(content);
  assert.deepEqual(row.highlights.map(([s, e]: [number, number]) => points.slice(s, e).join('')), ['zebra', 'zebras', 'zeb', 'Zebu']);
});

test('searchMessages: the caller\'s dialogs and the groups it is in now, their whole history; nothing else', async () => {
  const a = await signUp(fx.relay.http, 'Dora');
  const b = await signUp(fx.relay.http, 'Emil');
  const c = await signUp(fx.relay.http, 'Fay');
  const s = await signUp(fx.relay.http, 'Stranger');
  const [a1, b1, c1, s1] = await Promise.all([connect(a), connect(b), connect(c), connect(s)]);
  const word = 'quokka';
  const ab = await ok(a1, 'privateMessage', { receiverId: b.id, content: `${word} one` });
  const bc = await ok(b1, 'privateMessage', { receiverId: c.id, content: `${word} two` });
  const g = await ok(b1, 'newGroup', { groupName: 'Zoo' });
  const before = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: `${word} before a joined` });
  await ok(b1, 'addUserInGroup', { groupId: g.groupId, userId: a.id });
  const after = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: `${word} after a joined` });
  const note = await ok(s1, 'privateMessage', { receiverId: s.id, content: `${word} to myself` });

  const all = await ok(a1, 'searchMessages', { query: word });
  assert.deepEqual(ids(all), [after.id, before.id, ab.id], 'a: its dialog and the whole history of its group, newest first');
  const inGroup = all.find((r: any) => r.id === after.id);
  assert.deepEqual([inGroup.groupId, inGroup.groupName, inGroup.receiverId, inGroup.receiverName, inGroup.senderName],
    [g.groupId, 'Zoo', null, null, 'Emil']);
  assert.deepEqual(ids(await ok(b1, 'searchMessages', { query: word })), [after.id, before.id, bc.id, ab.id]);
  assert.deepEqual(ids(await ok(c1, 'searchMessages', { query: word })), [bc.id]);
  assert.deepEqual(ids(await ok(s1, 'searchMessages', { query: word })), [note.id], 'a note to oneself is a dialog');

  // One conversation: a dialog by receiverId, a group by groupId.
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: word, receiverId: b.id })), [ab.id]);
  assert.deepEqual(ids(await ok(b1, 'searchMessages', { query: word, receiverId: c.id })), [bc.id]);
  assert.deepEqual(await ok(a1, 'searchMessages', { query: word, receiverId: c.id }), [], 'no dialog with c');
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: word, groupId: g.groupId })), [after.id, before.id]);
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: word, groupId: g.groupId, receiverId: null })), [after.id, before.id]);
  const f = await errorOf(c1, 'searchMessages', { query: word, groupId: g.groupId }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  await errorOf(c1, 'searchMessages', { query: word, groupId: 2147483647 }, 'FORBIDDEN');
  await errorOf(a1, 'searchMessages', { query: word, groupId: g.groupId, receiverId: b.id }, 'VALIDATION');

  // Leaving a group takes its whole history out of the caller's search, at once.
  await ok(a1, 'leaveGroup', { groupId: g.groupId });
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: word })), [ab.id]);
  await errorOf(a1, 'searchMessages', { query: word, groupId: g.groupId }, 'FORBIDDEN');
  // Added again: the whole history is back.
  await ok(b1, 'addUserInGroup', { groupId: g.groupId, userId: a.id });
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: word })), [after.id, before.id, ab.id]);
});

test('searchMessages: deleted messages never match; an edited one matches its current content only', async () => {
  const a = await signUp(fx.relay.http, 'Gus');
  const b = await signUp(fx.relay.http, 'Hana');
  const a1 = await connect(a);
  const b1 = await connect(b);
  const g = await ok(a1, 'newGroup', { groupName: 'Edits' });
  await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  const gone = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'platypus soon deleted' });
  const pm = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'platypus in a dialog' });
  const edited = await ok(b1, 'messageInGroup', { groupId: g.groupId, content: 'wombat first version' });
  assert.deepEqual(ids(await ok(b1, 'searchMessages', { query: 'platypus' })), [pm.id, gone.id]);

  await ok(a1, 'deleteMessage', { messageId: gone.id });
  await ok(a1, 'deleteMessage', { messageId: pm.id });
  assert.deepEqual(await ok(b1, 'searchMessages', { query: 'platypus' }), []);
  assert.deepEqual(await ok(a1, 'searchMessages', { query: 'platypus' }), []);

  await ok(b1, 'editMessage', { messageId: edited.id, content: 'numbat second version' });
  assert.deepEqual(await ok(a1, 'searchMessages', { query: 'wombat' }), []);
  assert.deepEqual(await ok(a1, 'searchMessages', { query: 'first' }), []);
  const [row] = await ok(a1, 'searchMessages', { query: 'numb' });
  assert.equal(row.id, edited.id);
  assert.equal(row.content, 'numbat second version');
  assertIsoDate(row.editedAt, 'editedAt');
  assert.deepEqual(row.highlights, [[0, 6]]);
});

test('searchMessages: limit (default 20, 1..100) and beforeId page through the matches, newest first', async () => {
  const a = await signUp(fx.relay.http, 'Ivo');
  const a1 = await connect(a);
  const sent: number[] = [];
  for (let i = 0; i < 25; i++) sent.push((await ok(a1, 'privateMessage', { receiverId: a.id, content: `axolotl number ${i}` })).id);
  await ok(a1, 'privateMessage', { receiverId: a.id, content: 'no match here' });
  const newest = [...sent].reverse();

  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: 'axo' })), newest.slice(0, 20), 'default limit 20');
  const first = await ok(a1, 'searchMessages', { query: 'axo', limit: 10 });
  assert.deepEqual(ids(first), newest.slice(0, 10));
  const second = await ok(a1, 'searchMessages', { query: 'axo', limit: 10, beforeId: first[9].id });
  assert.deepEqual(ids(second), newest.slice(10, 20));
  const third = await ok(a1, 'searchMessages', { query: 'axo', limit: 10, beforeId: second[9].id });
  assert.deepEqual(ids(third), newest.slice(20));
  assert.deepEqual(await ok(a1, 'searchMessages', { query: 'axo', beforeId: sent[0] }), []);
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: 'axo', limit: 100 })), newest);
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: 'axolotl 7' })), [sent[7]]);

  for (const limit of [0, 101, 1.5, '5', -1]) await errorOf(a1, 'searchMessages', { query: 'axo', limit }, 'VALIDATION');
  for (const beforeId of [0, 1.5, 'x', 2 ** 53]) await errorOf(a1, 'searchMessages', { query: 'axo', beforeId }, 'VALIDATION');
});

test('searchMessages: query is 1..200 code points holding 1..10 words; ids are checked', async () => {
  const a = await signUp(fx.relay.http, 'Jo');
  const a1 = await connect(a);
  const m = await ok(a1, 'privateMessage', { receiverId: a.id, content: 'x'.repeat(200) });
  for (const query of [undefined, '', 5, null, ['a'], '   ', '!!! ... ???', 'a'.repeat(201), '😀'.repeat(201),
    'a b c d e f g h i j k']) {
    await errorOf(a1, 'searchMessages', query === undefined ? {} : { query }, 'VALIDATION');
  }
  // Bounds: 200 code points (400 UTF-16 units of emoji), 10 words.
  assert.deepEqual(await ok(a1, 'searchMessages', { query: '😀'.repeat(199) + 'y' }), []);
  assert.deepEqual(ids(await ok(a1, 'searchMessages', { query: 'x'.repeat(200) })), [m.id]);
  assert.deepEqual(await ok(a1, 'searchMessages', { query: 'a b c d e f g h i j' }), []);
  for (const receiverId of [0, 1.5, '1', 2 ** 31]) await errorOf(a1, 'searchMessages', { query: 'x', receiverId }, 'VALIDATION');
  for (const groupId of [0, 1.5, '1', 2 ** 31]) await errorOf(a1, 'searchMessages', { query: 'x', groupId }, 'VALIDATION');
});

test('the OpenAPI document describes searchMessages and blocking: requests, replies, pushes', async () => {
  const res = await fetch(`${fx.relay.http}/api/openapi.json`);
  const doc = await res.json() as any;
  for (const type of ['searchMessages', 'blockUser', 'unblockUser', 'getBlockedUsers']) {
    assert.ok(doc['x-websocket-messages'][type], `request ${type}`);
    assert.ok(doc['x-websocket-replies'][type], `reply ${type}`);
  }
  assert.deepEqual(Object.keys(doc['x-websocket-messages'].searchMessages.properties.params.properties).sort(),
    ['beforeId', 'groupId', 'limit', 'query', 'receiverId']);
  assert.deepEqual([...doc['x-websocket-replies'].searchMessages.items.required].sort(), ROW_KEYS);
  for (const type of ['blockUser', 'unblockUser']) assert.deepEqual(doc['x-websocket-pushes'][type].required, ['userId']);
});

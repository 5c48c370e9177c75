// v1.1 conversation state across two nodes relaying through Redis: seq exactness under
// concurrent senders on both nodes (groups and dialogs), and the markRead, editMessage and
// deleteMessage pushes reaching connections on the other node, once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp, type Account, type Client } from './helpers/client.js';
import { useRelay, okLoose, expectOnce, count, assertNoPush, QUIET_MS } from './helpers/protocol.js';
import { SHARED_REDIS_URL, testPrefix } from './helpers/redis.js';
import type { RelayProcess } from './helpers/server.js';

const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: testPrefix(), AUTH_RATE_PER_MINUTE: '100000' };
let second: RelayProcess;
const fx = useRelay('cluster_state', env, async (f) => {
  second = await f.startAnother({ ...env, DATABASE_URL: f.db.url });
});

/** Node 0 is the fixture's server, node 1 the second one. */
const on = (node: 0 | 1, account: Account): Promise<Client> => fx.connect(account, 'header', node === 0 ? fx.relay.ws : second.ws);

/** A group of `members` (created by the first), once every member socket got its join push. */
async function groupOf(members: Account[], sockets: Client[], name: string): Promise<number> {
  const { groupId } = await okLoose(sockets[0]!, 'newGroup', { groupName: name });
  for (const m of members.slice(1)) await okLoose(sockets[0]!, 'addUserInGroup', { groupId, userId: m.id });
  await Promise.all(sockets.slice(1).map((s) => s.push('addUserInGroup', (d) => d.groupId === groupId && d.userId === members[sockets.indexOf(s)]!.id, 6000)));
  return groupId as number;
}

function assertGapless(replies: { id: number; seq: number }[], what: string): void {
  const seqs = replies.map((r) => r.seq).sort((x, y) => x - y);
  assert.deepEqual(seqs, Array.from({ length: replies.length }, (_, i) => i + 1), `${what}: seqs 1..N, no gap, no repeat`);
  assert.deepEqual([...replies].sort((x, y) => x.id - y.id).map((r) => r.seq), seqs, `${what}: id order is seq order`);
}

test('six sockets on two nodes sending to one group at once: seqs 1..N, id order = seq order, pushed with their seq', async () => {
  const names = ['Ga', 'Gb', 'Gc', 'Gd', 'Ge', 'Gf'];
  const users = await Promise.all(names.map((n) => signUp(fx.relay.http, n)));
  const socks = await Promise.all(users.map((u, i) => on((i % 2) as 0 | 1, u)));
  const groupId = await groupOf(users, socks, 'two nodes');
  const PER = 30;
  const replies = (await Promise.all(socks.map((c, k) =>
    Promise.all(Array.from({ length: PER }, (_, i) => okLoose(c, 'messageInGroup', { groupId, content: `${k}:${i}` })))))).flat();
  assertGapless(replies, 'group');

  // Every other member's push carries the same seq as the sender's reply, on both nodes.
  const seqOf = new Map(replies.map((r) => [r.id, r.seq]));
  await Promise.all(socks.map(async (c, k) => {
    const expected = replies.filter((r) => r.senderId !== users[k]!.id).length;
    const deadline = Date.now() + 5000;
    while (c.pushes('messageInGroup').filter((f) => f.params.data.groupId === groupId).length < expected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const got = c.pushes('messageInGroup').filter((f) => f.params.data.groupId === groupId).map((f) => f.params.data);
    assert.equal(got.length, expected, `socket #${k}: every other member's message once`);
    for (const d of got) assert.equal(d.seq, seqOf.get(d.id));
  }));

  const history: any[] = [];
  for (let beforeId = 2 ** 40; ;) {
    const page = await okLoose(socks[1]!, 'getlatestMessageGroup', { groupId, limit: 100, beforeId });
    history.push(...page);
    if (page.length < 100) break;
    beforeId = page.at(-1).id;
  }
  assertGapless(history, 'history');
  assert.equal(history.length, replies.length);
});

test('one clientMessageId sent on both nodes at once is stored once, and the losing batch burns no seq', async () => {
  const a = await signUp(fx.relay.http, 'Ca');
  const b = await signUp(fx.relay.http, 'Cb');
  const [a0, a1, b0] = await Promise.all([on(0, a), on(1, a), on(0, b)]);
  const groupId = await groupOf([a, b], [a0, b0], 'resends');
  const replies: { id: number; seq: number }[] = [];
  for (let round = 0; round < 15; round++) {
    // The original and its resend race on two nodes; plain messages keep both batches busy.
    const [x, y, ...rest] = await Promise.all([
      okLoose(a0, 'messageInGroup', { groupId, content: `r${round}`, clientMessageId: `cm-${round}` }),
      okLoose(a1, 'messageInGroup', { groupId, content: `r${round}`, clientMessageId: `cm-${round}` }),
      okLoose(a0, 'messageInGroup', { groupId, content: `plain a ${round}` }),
      okLoose(a1, 'messageInGroup', { groupId, content: `plain b ${round}` }),
    ]);
    assert.equal(x.id, y.id, `round ${round}: one message for one clientMessageId`);
    replies.push(x, ...rest);
  }
  assertGapless(replies, 'resends');
});

test('both sides of a dialog sending at once from two nodes: one gapless seq, id order = seq order', async () => {
  const a = await signUp(fx.relay.http, 'Da');
  const b = await signUp(fx.relay.http, 'Db');
  const [a0, a1, b0, b1] = await Promise.all([on(0, a), on(1, a), on(0, b), on(1, b)]);
  const send = (c: Client, to: Account, n: number, tag: string) =>
    Promise.all(Array.from({ length: n }, (_, i) => okLoose(c, 'privateMessage', { receiverId: to.id, content: `${tag}${i}` })));
  const replies = (await Promise.all([send(a0, b, 25, 'a0-'), send(a1, b, 25, 'a1-'), send(b0, a, 25, 'b0-'), send(b1, a, 25, 'b1-')])).flat();
  assertGapless(replies, 'dialog');
  const rows = await okLoose(a0, 'listLastMessage', {});
  const row = rows.find((r: any) => r.groupId === null && (r.senderId === b.id || r.receiverId === b.id));
  assert.equal(row.seq, 100);
  assert.equal(row.id, Math.max(...replies.map((r) => r.id)), 'the chat list shows the newest');
});

test('markRead, editMessage and deleteMessage pushes reach the other node, once', async () => {
  const a = await signUp(fx.relay.http, 'Ma');
  const b = await signUp(fx.relay.http, 'Mb');
  const a0 = await on(0, a);
  const a1 = await on(1, a);
  const b0 = await on(0, b);
  const b1 = await on(1, b);
  const pm = await okLoose(a0, 'privateMessage', { receiverId: b.id, content: 'read me' });

  // B reads on node 1: B's node-0 socket gets it with unreadCount, A's sockets get a receipt.
  const read = await okLoose(b1, 'markRead', { receiverId: a.id, messageId: pm.id });
  assert.deepEqual(read, { userId: b.id, receiverId: a.id, groupId: null, lastReadId: pm.id, lastReadSeq: 1, unreadCount: 0 });
  await expectOnce([b0], 'markRead', (d) => d.lastReadId === pm.id && d.unreadCount === 0, QUIET_MS);
  await expectOnce([a0, a1], 'markRead', (d) => d.lastReadId === pm.id && d.unreadCount === undefined && d.receiverId === a.id, QUIET_MS);
  assert.equal(count(b1, 'markRead', () => true), 0, 'never the reading connection');

  const edited = await okLoose(a1, 'editMessage', { messageId: pm.id, content: 'read me, edited' });
  await expectOnce([a0, b0, b1], 'editMessage', (d) => d.id === pm.id && d.content === 'read me, edited' && d.editedAt === edited.editedAt, QUIET_MS);
  await assertNoPush(a1, 'editMessage', () => true, 'the editing connection', 0);

  const users = [a, b];
  const groupId = await groupOf(users, [a0, b1], 'pushes');
  const gm = await okLoose(b1, 'messageInGroup', { groupId, content: 'group text' });
  await expectOnce([a0, a1, b0], 'messageInGroup', (d) => d.id === gm.id && d.seq === 1, QUIET_MS);
  const gedit = await okLoose(b1, 'editMessage', { messageId: gm.id, content: 'group text!' });
  await expectOnce([a0, a1, b0], 'editMessage', (d) => d.id === gm.id && d.seq === 1 && d.editedAt === gedit.editedAt, QUIET_MS);
  // The owner (A, creator) deletes B's message from node 0.
  const del = await okLoose(a0, 'deleteMessage', { messageId: gm.id });
  await expectOnce([a1, b0, b1], 'deleteMessage', (d) => d.id === gm.id && d.deletedAt === del.deletedAt, QUIET_MS);
  const pushed = b1.pushes('deleteMessage').find((f) => f.params.data.id === gm.id)!;
  assert.deepEqual(pushed.params, { data: del, message: null, senderName: 'Ma' });

  // A group markRead goes to the reader's other connections only.
  const gm2 = await okLoose(a1, 'messageInGroup', { groupId, content: 'again' });
  await okLoose(b0, 'markRead', { groupId, messageId: gm2.id });
  await expectOnce([b1], 'markRead', (d) => d.groupId === groupId && d.lastReadSeq === 2 && d.unreadCount === 0, QUIET_MS);
  await assertNoPush(a0, 'markRead', (d) => d.groupId === groupId, 'other members', 0);
  await assertNoPush(a1, 'markRead', (d) => d.groupId === groupId, 'other members', 0);
});

test('markRead and sends at once on two nodes, groups and dialogs: no deadlock, markers end exact', async () => {
  const users = await Promise.all(['Ka', 'Kb', 'Kc', 'Kd'].map((n) => signUp(fx.relay.http, n)));
  const socks = await Promise.all(users.map((u, i) => on((i % 2) as 0 | 1, u)));
  const g1 = await groupOf(users, socks, 'marks one');
  const g2 = await groupOf(users, socks, 'marks two');
  const groups = [g1, g2];
  const first = await Promise.all(groups.flatMap((groupId) =>
    Array.from({ length: 10 }, (_, i) => okLoose(socks[i % 4]!, 'messageInGroup', { groupId, content: `first ${i}` }))));
  const dm = await Promise.all(Array.from({ length: 10 }, (_, i) => okLoose(socks[i % 2]!, 'privateMessage', { receiverId: users[(i + 1) % 2]!.id, content: `dm ${i}` })));

  // Every socket marks every earlier message, newest first and shuffled by socket, while all send.
  const work = socks.flatMap((c, k) => [
    ...groups.flatMap((groupId) => Array.from({ length: 5 }, (_, i) => okLoose(c, 'messageInGroup', { groupId, content: `${k} more ${i}` }))),
    ...first.map((_, i) => first[(i * (k + 3)) % first.length]).map((m) => okLoose(c, 'markRead', { groupId: m.groupId, messageId: m.id })),
    ...(k < 2 ? dm.map((m) => okLoose(c, 'markRead', { receiverId: users[1 - k]!.id, messageId: m.id })) : []),
    ...(k < 2 ? Array.from({ length: 5 }, (_, i) => okLoose(c, 'privateMessage', { receiverId: users[1 - k]!.id, content: `dm more ${i}` })) : []),
  ]);
  const results = await Promise.all(work);
  const sends = results.filter((r) => typeof r.content === 'string');

  for (const [k, c] of socks.entries()) {
    const rows = await okLoose(c, 'listLastMessage', { limit: 100 });
    for (const groupId of groups) {
      const all = [...first, ...sends].filter((m) => m.groupId === groupId);
      const mine = all.filter((m) => m.senderId === users[k]!.id).sort((x, y) => x.seq - y.seq).at(-1)!;
      const row = rows.find((r: any) => r.groupId === groupId);
      assert.equal(row.seq, all.length, `group ${groupId}: last seq`);
      assert.equal(row.lastReadId, mine.id, `user ${k}, group ${groupId}: the marker at its own newest message`);
      assert.equal(row.unreadCount, all.length - mine.seq);
    }
  }
  const dialog = [...dm, ...sends.filter((m) => m.groupId === undefined)];
  assertGapless(dialog, 'dialog under marks');
});

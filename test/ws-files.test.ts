// PROTOCOL.md v1.2 "Files", the messaging side: attachments on privateMessage and messageInGroup
// (sender's own files only, up to 10, content may then be ""), in every message row (send
// replies, pushes, both histories, edits, pinned lists; the chat list names the first file of a files-only
// message), reading by conversation members only (a member who left or was removed cannot),
// a deleted message losing its files, the orphan sweeper, and account deletion.
//
// One node on local pub/sub here; two nodes on Redis from ws-files.redis.test.ts (uploads through
// one node, reads and pushes through the other); files on the local folder, or on S3 (s3rver)
// when RELAY_TEST_FILES=s3 (ws-files.s3.test.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { http, signUp, type Account } from './helpers/client.js';
import { useRelay, ok, errorOf, assertPush, testPubSub } from './helpers/protocol.js';
import { eventually, assertLogsClean } from './helpers/kit.js';
import { startLocalS3 } from './helpers/s3.js';
import { upload, png, pdf } from './helpers/files.js';

const onS3 = process.env.RELAY_TEST_FILES === 's3';
const s3 = onS3 ? await startLocalS3() : undefined;
const dir = await mkdtemp(path.join(os.tmpdir(), 'relay-ws-files-'));
const TTL_S = 4;
const fx = useRelay(`ws_files${onS3 ? '_s3' : ''}`, {
  AUTH_RATE_PER_MINUTE: '100000', FILES_DIR: dir, ...s3?.env, FILE_ORPHAN_TTL: String(TTL_S), FILE_SWEEP_MS: '250',
}, undefined, { nodes: testPubSub() === 'local' ? 1 : 2 });
after(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The node a second device uses: the other node when there are two. */
const other = () => fx.nodes[fx.nodes.length - 1]!;

/** Whether `who` may read the file by token (the bytes, or a 302 to them on S3). */
async function readable(fileId: string, who: Account): Promise<number> {
  const res = await fetch(`${other().http}/files/${fileId}`, { headers: { authorization: `Bearer ${who.token}` }, redirect: 'manual' });
  await res.arrayBuffer();
  return res.status;
}
const OK = onS3 ? 302 : 200;

async function uploaded(who: Account, name: string, data: Buffer): Promise<any> {
  const res = await upload(fx.relay.http, who.token, name, data);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

test('a dialog message with files: reply, push and both sides\' history carry them; the partner may read them, no one else', async () => {
  const a = await signUp(fx.relay.http, 'Ann');
  const b = await signUp(fx.relay.http, 'Ben');
  const c = await signUp(fx.relay.http, 'Cid');
  const image = await uploaded(a, 'cat.png', await png(640, 480));
  const doc = await uploaded(a, 'plan.pdf', pdf());
  const a1 = await fx.connect(a);
  const b1 = await fx.connect(b, 'header', other().ws);
  assert.equal(await readable(image.id, b), 404, 'not the partner\'s before a message carries it');

  const data = await ok(a1, 'privateMessage', { receiverId: b.id, content: '', attachments: [image.id, doc.id, image.id] });
  assert.equal(data.content, '');
  assert.deepEqual(data.attachments.map((f: any) => [f.id, f.name, f.contentType]), [[image.id, 'cat.png', 'image/png'], [doc.id, 'plan.pdf', 'application/pdf']],
    'in order, a repeated id once');
  for (const f of data.attachments) {
    assert.deepEqual(Object.keys(f).sort(), ['contentType', 'createdAt', 'height', 'id', 'name', 'size', 'thumbnailUrl', 'url', 'width']);
  }
  const push = assertPush(await b1.push('privateMessage', (d) => d.id === data.id), 'privateMessage', '', 'Ann');
  assert.deepEqual(push.attachments.map((f: any) => f.id), [image.id, doc.id]);
  // The signed URL of the push works on any node, without a token.
  const viaUrl = await fetch(other().http + push.attachments[0].thumbnailUrl, { redirect: 'manual' });
  assert.equal(viaUrl.status, OK);

  assert.equal(await readable(image.id, b), OK, 'the partner reads it now');
  assert.equal(await readable(doc.id, a), OK, 'the uploader');
  assert.equal(await readable(image.id, c), 404, 'a stranger never');

  for (const [conn, peer] of [[a1, b], [b1, a]] as const) {
    const [row] = await ok(conn, 'getlatestMessageDialog', { receiverId: peer.id });
    assert.deepEqual(row.attachments.map((f: any) => f.id), [image.id, doc.id]);
    assert.equal((await fetch(other().http + row.attachments[1].url, { redirect: 'manual' })).status, OK, 'history URLs are signed and work');
    const [cursorRow] = await ok(conn, 'getlatestMessageDialog', { receiverId: peer.id, beforeId: data.id + 1 });
    assert.deepEqual(cursorRow.attachments, row.attachments, 'the cursor read builds the same rows');
    const chat = (await ok(conn, 'listLastMessage', {})).find((r: any) => r.id === data.id);
    assert.equal(chat.attachmentName, 'cat.png', 'the chat list names the first file of a files-only message');
  }
  // Pinned rows are message rows too (v1.2 "Pins"): they carry the files.
  await ok(a1, 'pinMessage', { messageId: data.id });
  const [pinned] = await ok(b1, 'getPinned', { receiverId: a.id });
  assert.deepEqual(pinned.attachments.map((f: any) => f.id), [image.id, doc.id]);
  // A send with both: content stays, attachmentName is null.
  const both = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'see this', attachments: [doc.id] });
  assert.equal((await ok(a1, 'listLastMessage', {})).find((r: any) => r.id === both.id).attachmentName, null);
  const edited = await ok(a1, 'editMessage', { messageId: both.id, content: 'see that' });
  assert.deepEqual(edited.attachments.map((f: any) => f.id), [doc.id], 'editing keeps the files');
  // Search results are message rows too (v1.2 "Search"): the files, with URLs that work.
  const [hit] = await ok(b1, 'searchMessages', { query: 'THA', receiverId: a.id });
  assert.equal(hit.id, both.id);
  assert.deepEqual(hit.attachments.map((f: any) => [f.id, f.name]), [[doc.id, 'plan.pdf']]);
  assert.equal((await fetch(other().http + hit.attachments[0].url, { redirect: 'manual' })).status, OK, 'search URLs are signed and work');
});

test('attachments are checked: the sender\'s own files, at most 10, content "" only with files', async () => {
  const a = await signUp(fx.relay.http, 'Dee');
  const b = await signUp(fx.relay.http, 'Eve');
  const a1 = await fx.connect(a);
  const mine = await uploaded(a, 'a.txt', Buffer.from('hello'));
  const theirs = await uploaded(b, 'b.txt', Buffer.from('hello'));
  await errorOf(a1, 'privateMessage', { receiverId: b.id, content: 'x', attachments: [theirs.id] }, 'NOT_FOUND');
  await errorOf(a1, 'privateMessage', { receiverId: b.id, content: 'x', attachments: ['AAAAAAAAAAAAAAAAAAAAAA'] }, 'NOT_FOUND');
  await errorOf(a1, 'privateMessage', { receiverId: b.id, content: 'x', attachments: ['../../etc/passwd'] }, 'VALIDATION');
  await errorOf(a1, 'privateMessage', { receiverId: b.id, content: 'x', attachments: mine.id }, 'VALIDATION');
  const eleven = await Promise.all(Array.from({ length: 11 }, (_, i) => uploaded(a, `f${i}.txt`, Buffer.from(String(i)))));
  await errorOf(a1, 'privateMessage', { receiverId: b.id, content: 'x', attachments: eleven.map((f) => f.id) }, 'VALIDATION');
  const ten = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'x', attachments: eleven.slice(0, 10).map((f) => f.id) });
  assert.equal(ten.attachments.length, 10);
  await errorOf(a1, 'privateMessage', { receiverId: b.id, content: '' }, 'VALIDATION');
  await errorOf(a1, 'privateMessage', { receiverId: b.id, content: '', attachments: [] }, 'VALIDATION');
  await errorOf(a1, 'privateMessage', { receiverId: b.id, content: '   ', attachments: [mine.id] }, 'VALIDATION');
  const g = await ok(a1, 'newGroup', { groupName: 'Files' });
  await errorOf(a1, 'messageInGroup', { groupId: g.groupId, content: '', attachments: [theirs.id] }, 'NOT_FOUND');
  // The same clientMessageId again: the first message back, with its files.
  const first = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: '', attachments: [mine.id], clientMessageId: 'files-1' });
  const again = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: '', attachments: [mine.id], clientMessageId: 'files-1' });
  assert.equal(again.id, first.id);
  assert.deepEqual(again.attachments.map((f: any) => f.id), [mine.id]);
});

test('groups: members read the files; one who left or was removed cannot; a deleted message loses its files', async () => {
  const a = await signUp(fx.relay.http, 'Fay');
  const b = await signUp(fx.relay.http, 'Gus');
  const c = await signUp(fx.relay.http, 'Hal');
  const d = await signUp(fx.relay.http, 'Ivy');
  const a1 = await fx.connect(a);
  const b1 = await fx.connect(b, 'header', other().ws);
  const c1 = await fx.connect(c);
  const g = await ok(a1, 'newGroup', { groupName: 'Crew' });
  for (const u of [b, c, d]) await ok(a1, 'addUserInGroup', { groupId: g.groupId, userId: u.id });
  const photo = await uploaded(a, 'team.png', await png(400, 400));
  const sent = await ok(a1, 'messageInGroup', { groupId: g.groupId, content: 'us', attachments: [photo.id] });
  const push = assertPush(await b1.push('messageInGroup', (x) => x.id === sent.id), 'messageInGroup', 'us', 'Fay');
  assert.deepEqual(push.attachments, sent.attachments.map((f: any) => ({ ...f, url: push.attachments[0].url, thumbnailUrl: push.attachments[0].thumbnailUrl })));
  const [row] = await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId });
  assert.deepEqual(row.attachments.map((f: any) => [f.id, f.width, f.height]), [[photo.id, 400, 400]]);
  const [cursorRow] = await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId, afterId: sent.id - 1 });
  assert.deepEqual(cursorRow.attachments.map((f: any) => f.id), [photo.id]);
  for (const u of [b, c, d]) assert.equal(await readable(photo.id, u), OK, `member ${u.firstName}`);

  await ok(c1, 'leaveGroup', { groupId: g.groupId });
  assert.equal(await readable(photo.id, c), 404, 'a member who left');
  await ok(a1, 'removeUserFromGroup', { groupId: g.groupId, userId: d.id });
  assert.equal(await readable(photo.id, d), 404, 'a member who was removed');
  assert.equal(await readable(photo.id, b), OK, 'a member who stayed');

  await ok(a1, 'deleteMessage', { messageId: sent.id });
  const [gone] = await ok(b1, 'getlatestMessageGroup', { groupId: g.groupId });
  assert.deepEqual([gone.id, gone.attachments], [sent.id, []], 'a deleted message has no files');
  assert.equal(await readable(photo.id, b), 404, 'nor can its files be read through it');
  assert.equal(await readable(photo.id, a), OK, 'the uploader still can (until it is swept)');
});

test('the sweeper deletes files no message carries after FILE_ORPHAN_TTL, bytes and rows; carried files stay', async () => {
  const a = await signUp(fx.relay.http, 'Jon');
  const b = await signUp(fx.relay.http, 'Kim');
  const a1 = await fx.connect(a);
  const orphan = await uploaded(a, 'lonely.png', await png(50, 50));
  const kept = await uploaded(a, 'kept.png', await png(50, 50));
  await ok(a1, 'privateMessage', { receiverId: b.id, content: 'k', attachments: [kept.id] });
  const key = (id: string): string => path.join(dir, id.slice(0, 2), id);
  if (!onS3) assert.ok(existsSync(key(orphan.id)) && existsSync(`${key(orphan.id)}.thumb`));
  await eventually('the orphan is swept', async () => (await readable(orphan.id, a)) === 404, { timeoutMs: (TTL_S + 10) * 1000, everyMs: 200 });
  assert.equal((await fetch(other().http + orphan.url, { redirect: 'manual' })).status, 404, 'its signed URL too');
  if (!onS3) assert.ok(!existsSync(key(orphan.id)) && !existsSync(`${key(orphan.id)}.thumb`), 'its bytes and thumbnail are gone from the folder');
  if (s3) {
    const direct = await fetch(`${s3.endpoint}/${s3.bucket}/${orphan.id}`);
    assert.equal(direct.status, 404, 'its bytes are gone from the bucket');
  }
  assert.equal(await readable(kept.id, b), OK, 'a carried file stays');
  // Swept once: by one node, however many run.
  const sweeps = fx.nodes.flatMap((n) => n.logs).filter((l) => l.msg === 'orphan files swept');
  assert.ok(sweeps.length >= 1);
});

test('deleting an account deletes its files', async () => {
  const a = await signUp(fx.relay.http, 'Lou');
  const b = await signUp(fx.relay.http, 'Max');
  const a1 = await fx.connect(a);
  const f = await uploaded(a, 'mine.bin', randomBytes(2000));
  await ok(a1, 'privateMessage', { receiverId: b.id, content: 'bye', attachments: [f.id] });
  assert.equal(await readable(f.id, b), OK);
  assert.equal((await http(fx.relay.http, 'DELETE', '/profile', { token: a.token })).status, 200);
  assert.equal(await readable(f.id, b), 404);
  assert.equal((await fetch(other().http + f.url, { redirect: 'manual' })).status, 404);
  if (!onS3) await eventually('its bytes are gone', () => !existsSync(path.join(dir, f.id.slice(0, 2), f.id)));
});

test('the logs hold no errors', () => {
  for (const node of fx.nodes) assertLogsClean(node.logs, { expect: ['listening'] });
});

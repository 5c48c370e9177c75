// Issue #6, fuzzing: thousands of random and mutated frames against a live server. Every frame
// gets a well-formed reply (or, for what the protocol closes on, a close); the process stays up,
// no frame is a server error, and memory comes back to its level.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { Client, http, signUp, sleep, type Account } from './helpers/client.js';
import { freePort } from './helpers/kit.js';

const SEED = 20240606;
const TYPES = ['listLastMessage', 'getlatestMessageDialog', 'getlatestMessageGroup', 'newGroup', 'addUserInGroup', 'leaveGroup', 'messageInGroup', 'privateMessage'];
const CODES = new Set(['BAD_REQUEST', 'VALIDATION', 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT', 'RATE_LIMITED', 'INTERNAL']);
const PARAMS = ['groupId', 'receiverId', 'userId', 'content', 'groupName', 'limit', 'page', 'beforeId', 'afterId', 'clientMessageId'];

let db: TestDatabase;
let relay: RelayProcess;
let fuzzer: Account;
let other: Account;
let groupId: number;
let inspectPort: number;
before(async () => {
  db = await createTestDatabase('ops_fuzz');
  inspectPort = await freePort();
  relay = await startRelay({
    DATABASE_URL: db.url, WS_RATE_PER_SECOND: '1000000', WS_RATE_BURST: '1000000',
    // The inspector lets the test run a real full GC in the server before measuring memory.
    NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}`,
  });
  fuzzer = await signUp(relay.http, 'Fuzzer');
  other = await signUp(relay.http, 'Other');
  const c = await Client.connect(relay.ws, fuzzer.token);
  groupId = (await c.request('newGroup', { groupName: 'fuzz' })).params.data.groupId as number;
  await c.request('addUserInGroup', { groupId, userId: other.id });
  await c.request('messageInGroup', { groupId, content: 'seed' });
  await c.close();
});
after(async () => {
  await relay?.stop();
  await db?.drop();
});

/**
 * A full garbage collection in the server, through its inspector (started for this test on a port of
 * ours), then its JS heap in use.
 */
async function collectGarbage(): Promise<number> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const cdp = new WebSocket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { cdp.once('open', resolve); cdp.once('error', reject); });
  let id = 0;
  const call = (method: string, params: object = {}): Promise<any> => new Promise((resolve) => {
    const mine = ++id;
    const onMessage = (d: Buffer): void => {
      const msg = JSON.parse(d.toString()) as { id?: number; result?: unknown };
      if (msg.id === mine) { cdp.off('message', onMessage); resolve(msg.result); }
    };
    cdp.on('message', onMessage);
    cdp.send(JSON.stringify({ id: mine, method, params }));
  });
  await call('HeapProfiler.enable');
  await call('HeapProfiler.collectGarbage');
  await call('HeapProfiler.collectGarbage');
  const used = await call('Runtime.getHeapUsage') as { usedSize: number };
  cdp.close();
  return used.usedSize;
}

const rssKiB = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${relay.proc.pid}/status`, 'utf8'))?.[1]);

// ---- what to send -------------------------------------------------------------------------------

interface Frame { data: string | Uint8Array; binary: boolean }

const hugeNumbers = fc.constantFrom(
  0, -0, -1, 0.5, 12.5, 1e-300, 2 ** 31 - 1, 2 ** 31, 2 ** 40, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21, 1e308, -1e308, Number.MIN_VALUE,
);
const unicode = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }), // any code point, lone surrogates included
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.constantFrom('', ' ', '\u0000', '\u0000x', '\t\n', '\u200b', '\ud83d', '\ude00x', '😀'.repeat(4097), 'x'.repeat(4097), 'é'.repeat(5000), '\u202e', 'select * from users; --'),
);
const value = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: hugeNumbers },
  { weight: 2, arbitrary: fc.double() },
  { weight: 3, arbitrary: unicode },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constant(null).map(() => groupId) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
);
const params = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(fc.constantFrom(...PARAMS, '__proto__', 'constructor', 'x'), value, { maxKeys: 6 }) },
  { weight: 1, arbitrary: value },
);
const requestId = fc.oneof(fc.integer(), fc.string({ maxLength: 140 }), fc.double(), hugeNumbers, fc.jsonValue({ maxDepth: 2 }));
const envelope = fc
  .record({
    type: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: unicode }, { weight: 1, arbitrary: fc.constantFrom('toString', '__proto__', 'constructor', 'processor') }),
    params,
    requestId,
    extra: value,
  }, { requiredKeys: [] })
  .map((o) => JSON.stringify(o));
const deep = fc.tuple(fc.integer({ min: 50, max: 15_000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => {
  const close = open === '[' ? ']' : '}';
  return `{"type":"listLastMessage","params":{"limit":${open.repeat(depth)}1${close.repeat(depth)}},"requestId":"deep"}`;
});
/** A valid request broken by one edit: a character dropped, replaced or inserted, or the tail cut off. */
const mutated = fc.tuple(envelope, fc.nat(), fc.nat(), fc.constantFrom('drop', 'replace', 'insert', 'truncate'), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }))
  .map(([text, at, len, how, ch]) => {
    const i = at % (text.length + 1);
    switch (how) {
      case 'drop': return text.slice(0, i) + text.slice(i + 1);
      case 'replace': return text.slice(0, i) + ch + text.slice(i + 1);
      case 'insert': return text.slice(0, i) + ch + text.slice(i);
      default: return text.slice(0, Math.min(i, len % (text.length + 1)));
    }
  });
const MAX_FRAME = 64 * 1024;
const byteLength = (f: Frame): number => (typeof f.data === 'string' ? Buffer.byteLength(f.data) : f.data.length);
/** Frames the server must answer: anything up to 64 KiB (over it, the protocol closes: tested below). */
const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 8, arbitrary: envelope.map((data) => ({ data, binary: false })) },
  { weight: 4, arbitrary: mutated.map((data) => ({ data, binary: false })) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ data: JSON.stringify(v) ?? 'null', binary: false })) },
  { weight: 2, arbitrary: unicode.map((data) => ({ data, binary: false })) },
  { weight: 1, arbitrary: deep.map((data) => ({ data, binary: false })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((data) => ({ data, binary: true })) },
  { weight: 1, arbitrary: envelope.map((data) => ({ data: new TextEncoder().encode(data), binary: true })) },
).filter((f) => byteLength(f) <= MAX_FRAME);

// ---- what must come back ------------------------------------------------------------------------

function expectedRequestId(data: string): unknown {
  let msg: unknown;
  try { msg = JSON.parse(data); } catch { return undefined; }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return undefined;
  const id = (msg as { requestId?: unknown }).requestId;
  if (typeof id === 'string' && id.length <= 128) return id;
  if (typeof id === 'number' && Number.isFinite(id)) return id;
  return undefined;
}

function checkReply(sent: Frame, reply: Record<string, any>): void {
  const where = `${JSON.stringify(reply).slice(0, 300)} for ${JSON.stringify(typeof sent.data === 'string' ? sent.data.slice(0, 200) : '<binary>')}`;
  if (reply.error === true) {
    assert.ok(CODES.has(reply.code), `unknown code: ${where}`);
    assert.notEqual(reply.code, 'INTERNAL', `a server error: ${where}`);
    assert.equal(typeof reply.message, 'string', where);
    assert.equal(typeof reply.type, 'string', where);
    assert.doesNotMatch(reply.message, /\n\s+at |node_modules|\.js:\d+|postgres/i, `a stack or driver text: ${where}`);
  } else {
    assert.equal(reply.success, true, where);
    assert.ok(TYPES.includes(reply.type), where);
    assert.ok('data' in reply.params, where);
    assert.equal(reply.params.message, null, where);
  }
  const id = sent.binary ? undefined : expectedRequestId(sent.data as string);
  assert.deepEqual(reply.requestId, id, `requestId: ${where}`);
}

/** A connection that collects replies (pushes carry a message; replies never do). */
async function open(): Promise<{ ws: WebSocket; replies: Record<string, any>[]; closed: Promise<number> }> {
  const ws = new WebSocket(relay.ws, { headers: { authorization: `Bearer ${fuzzer.token}` }, maxPayload: 1 << 20 });
  const replies: Record<string, any>[] = [];
  ws.on('message', (d: Buffer) => {
    const f = JSON.parse(d.toString()) as Record<string, any>;
    if (f.success === true && f.params?.message != null) return;
    replies.push(f);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return { ws, replies, closed };
}

test('thousands of random and mutated frames each get a well-formed reply, never a server error', async (t) => {
  const conn = await open();
  let frames = 0;
  // Warm up before measuring memory: JIT, prepared statements, pools.
  for (const f of fc.sample(frame, { seed: SEED + 1, numRuns: 300 })) conn.ws.send(f.data, { binary: f.binary });
  for (const deadline = Date.now() + 20_000; conn.replies.length < 300 && Date.now() < deadline && conn.ws.readyState === WebSocket.OPEN;) await sleep(10);
  assert.equal(conn.replies.length, 300, `warm-up: ${conn.replies.length} replies, socket state ${conn.ws.readyState}`);
  await sleep(500);
  const heapBefore = await collectGarbage();
  const rssBefore = rssKiB();

  await fc.assert(
    fc.asyncProperty(fc.array(frame, { minLength: 20, maxLength: 80, size: 'max' }), async (batch) => {
      const start = conn.replies.length;
      for (const f of batch) conn.ws.send(f.data, { binary: f.binary });
      frames += batch.length;
      for (const deadline = Date.now() + 10_000; conn.replies.length < start + batch.length;) {
        assert.ok(Date.now() < deadline, `${conn.replies.length - start} replies to ${batch.length} frames`);
        assert.equal(conn.ws.readyState, WebSocket.OPEN, 'the connection was closed');
        await sleep(2);
      }
      batch.forEach((f, i) => checkReply(f, conn.replies[start + i]!));
    }),
    { seed: SEED, numRuns: Number(process.env.FUZZ_RUNS ?? 80), endOnFailure: true },
  );
  conn.ws.close();

  // Memory comes back: after a full collection the JS heap is where it was, and RSS near it.
  await sleep(500);
  const heapAfter = await collectGarbage();
  const rssAfter = rssKiB();
  t.diagnostic(`${frames} fuzzed frames; RSS ${rssBefore} KiB before, ${rssAfter} KiB after; JS heap used ${(heapBefore / 2 ** 20).toFixed(1)} MiB before, ${(heapAfter / 2 ** 20).toFixed(1)} MiB after`);
  assert.ok(frames >= 2000);
  assert.ok(heapAfter - heapBefore < 2 * 2 ** 20, `the JS heap kept ${((heapAfter - heapBefore) / 2 ** 20).toFixed(2)} MiB after a full GC`);
  assert.ok(rssAfter - rssBefore < 24 * 1024, `RSS grew ${((rssAfter - rssBefore) / 1024).toFixed(1)} MiB`);
  assert.equal(relay.proc.exitCode, null);
  assert.equal((await http(relay.http, 'GET', '/health')).status, 200);
  assert.ok(!relay.logs.some((l) => l.msg === 'handler failed'), 'no frame made a handler fail');
});

test('frames the protocol closes on (invalid UTF-8 text, over 64 KiB) get a close; other sockets live on', async (t) => {
  const invalidUtf8 = fc.tuple(
    fc.uint8Array({ maxLength: 40 }),
    fc.constantFrom([0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]),
    fc.uint8Array({ maxLength: 40 }),
  ).map(([a, bad, b]) => Buffer.concat([Buffer.from(JSON.stringify({ type: 'listLastMessage', requestId: 1 }).slice(0, a.length % 20)), Buffer.from(bad), Buffer.from(b)]));
  const bystander = await Client.connect(relay.ws, other.token);
  const codes: Record<string, number> = {};
  let n = 0;
  const cases: [string, Buffer][] = [
    ...fc.sample(invalidUtf8, { seed: SEED, numRuns: 40 }).map((b) => ['invalid UTF-8', b] as [string, Buffer]),
    ['65537 bytes', Buffer.from(JSON.stringify({ type: 'listLastMessage', pad: 'x'.repeat(65_537) }))],
    ['1 MiB', Buffer.alloc(1 << 20, 0x20)],
  ];
  for (const [what, bytes] of cases) {
    const conn = await open();
    conn.ws.send(bytes, { binary: false });
    const outcome = await Promise.race([conn.closed.then((code) => `close ${code}`), sleep(5000).then(() => 'nothing')]);
    // Invalid UTF-8 may sit in a frame that still decodes as replacement characters in no case: uWS validates.
    if (outcome === 'nothing') {
      assert.equal(conn.replies.length, 1, `${what}: neither a reply nor a close`);
      checkReply({ data: bytes.toString('latin1'), binary: true }, { ...conn.replies[0], requestId: undefined });
      conn.ws.close();
    }
    codes[`${what}: ${outcome}`] = (codes[`${what}: ${outcome}`] ?? 0) + 1;
    n++;
  }
  t.diagnostic(JSON.stringify(codes));
  assert.equal(n, cases.length);
  assert.equal((await bystander.request('listLastMessage', {})).success, true);
  assert.equal(relay.proc.exitCode, null);
  await bystander.close();
});

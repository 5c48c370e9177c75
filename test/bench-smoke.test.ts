/**
 * Keeps the benchmark suite from rotting without running a benchmark: the lean WebSocket
 * client against a reference server (`ws`), the frame scanner, and every scenario end to end
 * at tiny sizes through the real entry point (`--smoke`), writing to a temporary file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { FrameParser } from '../bench/lib/frames.js';
import { HandshakeError, openLean, type LeanSocket } from '../bench/lib/wsclient.js';
import { newFacts, scanFrame, tagKind, tagValue } from '../bench/lib/scan.js';
import { canReach, DEFAULT_ADMIN_URL } from '../bench/lib/database.js';
import { eventually } from './helpers/kit.js';
import { num, runBench } from './helpers/bench.js';

const RUN_JS = fileURLToPath(new URL('../bench/run.js', import.meta.url));

test('the frame parser reassembles frames split at every byte, with 7/16/64-bit lengths', () => {
  const seen: number[] = [];
  const parser = new FrameParser({
    onMessage: (payload) => seen.push(payload.length),
    onPing: () => undefined,
    onClose: () => undefined,
    onProtocolError: (reason) => assert.fail(reason),
  });
  const bytes = Buffer.concat([
    Buffer.from([0x81, 3]), Buffer.from('abc'),
    Buffer.from([0x81, 126, 1, 0]), Buffer.alloc(256, 0x61),
    Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]), Buffer.alloc(65536, 0x62),
  ]);
  for (let i = 0; i < bytes.length; i++) parser.push(bytes.subarray(i, i + 1));
  assert.deepEqual(seen, [3, 256, 65536]);
});

test('the scanner reads requestId and the content tag without parsing', () => {
  const facts = newFacts();
  const push = Buffer.from(JSON.stringify({ type: 'messageInGroup', success: true, params: { data: { id: 7, content: '@t123456' }, message: '@t123456', senderName: 'u1' } }));
  scanFrame(push, facts);
  assert.equal(facts.requestId, -1);
  assert.equal(String.fromCharCode(tagKind(push, facts.tagAt)), 't');
  assert.equal(tagValue(push, facts.tagAt), 123456);
  const reply = Buffer.from(JSON.stringify({ type: 'messageInGroup', success: true, params: { data: { content: '@t9' }, message: null, senderName: null }, requestId: 42 }));
  scanFrame(reply, facts);
  assert.equal(facts.requestId, 42);
});

test('the lean client talks to a reference server: auth, fragments, ping, close', async () => {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    verifyClient: (info, done) => done(info.req.headers.authorization === 'Bearer good', 401),
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const address = server.address();
  const target = { host: '127.0.0.1', port: typeof address === 'object' && address !== null ? address.port : 0 };
  let pongs = 0;
  server.on('connection', (ws) => {
    ws.on('pong', () => pongs++);
    ws.on('message', (data) => {
      const text = String(data);
      if (text === 'bye') return ws.close(4001, 'expired');
      ws.send(`echo:${text}`);
      ws.send('frag1-', { fin: false });
      ws.ping();
      ws.send('frag2', { fin: true });
    });
  });
  let socket: LeanSocket | undefined;
  try {
    await assert.rejects(openLean(target, 'bad', { onMessage: () => undefined, onClose: () => undefined }), (error: unknown) => error instanceof HandshakeError && error.status === 401);
    const got: string[] = [];
    let closed: [number, string] | null = null;
    socket = await openLean(target, 'good', { onMessage: (payload) => got.push(payload.toString()), onClose: (code, reason) => (closed = [code, reason]) });
    socket.send('x'.repeat(70_000));
    await eventually('both frames arrived', () => got.length === 2, { timeoutMs: 2000, everyMs: 10 });
    assert.deepEqual(got.map((text) => text.length), [70_005, 11]);
    assert.equal(got[1], 'frag1-frag2');
    // The pong answers a ping sent between the fragments; the server may count it after the reply.
    await eventually('the pong arrived', () => pongs === 1, { timeoutMs: 2000, everyMs: 10 });
    socket.send('bye');
    await eventually('the socket closed', () => closed !== null, { timeoutMs: 2000, everyMs: 10 });
    assert.deepEqual(closed, [4001, 'expired']);
  } finally {
    // Whatever failed, nothing may stay open: an open socket keeps the test process alive.
    socket?.close();
    for (const client of server.clients) client.terminate();
    server.close();
  }
});

interface Line {
  scenario: string;
  git: { commit: string | null };
  machine: { cores: number };
  params: Record<string, unknown>;
  figures: Record<string, unknown>;
}

test('every scenario runs end to end at smoke size and appends a result line', { timeout: 240_000 }, async (t) => {
  if (!(await canReach(process.env['BENCH_ADMIN_URL'] ?? DEFAULT_ADMIN_URL))) {
    t.skip('no PostgreSQL at 127.0.0.1:5432');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const out = join(dir, 'results.jsonl');
  try {
    // A short presence grace: connect waits for every user to go offline after closing them all.
    const { code, output } = await runBench([RUN_JS, '--smoke', '--out', out, '--server-env', 'PRESENCE_GRACE_MS=500']);
    assert.equal(code, 0, output);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((text) => JSON.parse(text) as Line);
    assert.deepEqual(lines.map((line) => line.scenario), ['connect', 'fanout', 'private', 'history', 'typing'], output);
    for (const line of lines) {
      assert.ok(line.machine.cores >= 1);
      assert.equal(line.params['preset'], 'smoke');
    }
    const [connect, fanout, priv, history, typing] = lines.map((line) => line.figures);
    assert.equal(connect?.['opened'], 20);
    assert.ok(num(connect?.['handshakesPerSecond']) > 0);
    // Every user has 5 partners, all online: presence pushes came, and all went offline after the close.
    assert.ok(num(connect?.['presencePushes']) > 0);
    const close = connect?.['close'] as Record<string, unknown>;
    assert.equal(close['offlineUsers'], 20);
    assert.ok(num(close['eventLoopDelayMaxMs']) >= 0);
    // Read apart: the sockets closing, then the users going offline after the grace.
    assert.equal(num(close['eventLoopDelayMaxMs']), Math.max(num(close['closingLoopDelayMaxMs']), num(close['offlineLoopDelayMaxMs'])));
    for (const mode of ['closed', 'open']) {
      const round = fanout?.[mode] as Record<string, unknown>;
      assert.ok(num(round['sendsPerSecond']) > 0, `${mode}: sends`);
      assert.ok(num(round['deliveriesPerSecond']) > 0, `${mode}: deliveries`);
      // 2 groups of 5: every send reaches the 4 other members.
      assert.ok(Math.abs(num(round['deliveriesPerSend']) - 4) < 0.5, `${mode}: deliveries per send ${String(round['deliveriesPerSend'])}`);
      assert.deepEqual(round['errors'], {});
    }
    assert.ok(num(priv?.['sendsPerSecond']) > 0);
    assert.ok(num((priv?.['roundTrip'] as Record<string, unknown>)['count']) > 0);
    for (const kind of ['listLastMessage', 'getlatestMessageDialog', 'getlatestMessageGroup', 'markRead', 'editMessage', 'deleteMessage']) {
      const round = history?.[kind] as Record<string, unknown>;
      assert.ok(num(round['requestsPerSecond']) > 0, kind);
      assert.ok(num(round['rowsPerReply']) > 0, `${kind} returned no rows`);
      assert.deepEqual(round['errors'], {});
    }
    // 5 members typing 10/s: pushed, about once a second per typer and receiver (a 2.5 s window
    // holds at most 3 pushes of one typer: 1.2/s), not ten times. The gaps between pushes are
    // reported, not asserted: under a loaded test machine delivery jitter can bring two closer.
    assert.ok(num(typing?.['typingPushesPerSecond']) > 0);
    assert.ok(num(typing?.['pushesPerTyperPerReceiverPerSecond']) <= 1.25, String(typing?.['pushesPerTyperPerReceiverPerSecond']));
    assert.equal(typeof typing?.['tooSoon'], 'number');
    assert.ok(num((typing?.['probe'] as Record<string, unknown>)['count']) > 0);
    assert.deepEqual(typing?.['errors'], {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fanout over a Redis Cluster of the run\'s own: two nodes, three shards, each metered, cost per delivery reported', { timeout: 120_000 }, async (t) => {
  if (!(await canReach(process.env['BENCH_ADMIN_URL'] ?? DEFAULT_ADMIN_URL))) {
    t.skip('no PostgreSQL at 127.0.0.1:5432');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const out = join(dir, 'results.jsonl');
  try {
    const { code, output } = await runBench([RUN_JS, 'fanout', '--smoke', '--mode', 'closed', '--nodes', '2', '--redis-cluster', '--out', out]);
    assert.equal(code, 0, output);
    const [line] = readFileSync(out, 'utf8').trim().split('\n').map((text) => JSON.parse(text) as Line);
    assert.deepEqual(line?.params['broker'], { kind: 'redis-cluster', shards: 3 });
    const round = line?.figures['closed'] as Record<string, any>;
    assert.ok(Math.abs(num(round['deliveriesPerSend']) - 4) < 0.5, `deliveries per send ${String(round['deliveriesPerSend'])}`);
    assert.deepEqual(round['errors'], {});
    assert.equal(round['load'].serverNodeCores.length, 2, 'each node metered');
    assert.equal(round['load'].brokerCores.length, 3, 'each shard metered');
    const cost = round['costPer100kDeliveries'];
    assert.ok(num(cost.relay) > 0 && num(cost.postgres) >= 0 && num(cost.redisTotal) >= 0, JSON.stringify(cost));
    assert.equal(cost.redis.length, 3);
    assert.match(output, /redis CPU .* \(3 shards\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The SDK's files (relay-client): uploadFile from a Node Buffer and a Node stream with progress,
// cancelled through an AbortSignal, refused with the protocol's codes, and attachments on sends
// arriving typed on the other side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { RelayError, type FileInfo } from 'relay-client';
import { signUp } from './helpers/client.js';
import { useRelay } from './helpers/protocol.js';
import { sdk, Recorder } from './helpers/sdk.js';
import { png } from './helpers/files.js';

const MAX = 2 * 1024 * 1024;
const fx = useRelay('sdk_files', { AUTH_RATE_PER_MINUTE: '100000', MAX_UPLOAD_BYTES: String(MAX) });

test('uploadFile: a Buffer and a stream, with progress; sends carry them; the receiver gets them typed', async () => {
  const a = await signUp(fx.relay.http, 'Sdk');
  const b = await signUp(fx.relay.http, 'Kit');
  const ca = sdk(fx.relay.ws, a.token);
  const cb = sdk(fx.relay.ws, b.token);
  const rec = new Recorder(cb, ['privateMessage']);
  await Promise.all([ca.connect(), cb.connect()]);

  const progress: number[] = [];
  const image = await ca.uploadFile(await png(300, 200), 'pic.png', { onProgress: (p) => progress.push(p.loaded) });
  assert.equal(image.contentType, 'image/png');
  assert.deepEqual([image.width, image.height], [300, 200]);
  assert.ok(progress.length >= 1 && progress.at(-1) === image.size, `progress ends at the size: ${progress.join(',')}`);

  const data = randomBytes(700_000);
  const seen: number[] = [];
  const streamed = await ca.uploadFile(Readable.from([data.subarray(0, 300_000), data.subarray(300_000)]), 'data.bin', { onProgress: (p) => seen.push(p.loaded) });
  assert.equal(streamed.size, data.length);
  assert.deepEqual(seen, [300_000, 700_000]);
  const back = await fetch(fx.relay.http + streamed.url);
  assert.ok(Buffer.from(await back.arrayBuffer()).equals(data));

  const sent = await ca.sendPrivate(b.id, '', { attachments: [image, streamed.id] });
  assert.deepEqual(sent.attachments?.map((f: FileInfo) => f.id), [image.id, streamed.id]);
  const push = await rec.wait('privateMessage', (p) => p.data.id === sent.id);
  assert.deepEqual(push.data.attachments?.map((f) => f.name), ['pic.png', 'data.bin']);
  const [row] = await cb.dialogHistory(a.id);
  assert.equal(row?.attachments?.[0]?.thumbnailUrl?.startsWith(`/files/${image.id}/thumbnail?`), true);
});

test('uploadFile: cancelled with an AbortSignal (ABORTED), too big (PAYLOAD_TOO_LARGE), signed out (UNAUTHORIZED)', async () => {
  const a = await signUp(fx.relay.http, 'Cut');
  const ca = sdk(fx.relay.ws, a.token);
  const ctl = new AbortController();
  let sent = 0;
  const slow = Readable.from((async function* () {
    for (let i = 0; i < 50; i++) { yield randomBytes(16 * 1024); await new Promise((r) => setTimeout(r, 20)); }
  })());
  const err = await ca.uploadFile(slow, 'slow.bin', { signal: ctl.signal, onProgress: (p) => { sent = p.loaded; if (sent > 64 * 1024) ctl.abort(); } })
    .then(() => assert.fail('expected ABORTED'), (e: unknown) => e);
  assert.ok(err instanceof RelayError && err.code === 'ABORTED', String(err));

  const big = await ca.uploadFile(randomBytes(MAX + 1), 'big.bin').then(() => assert.fail('expected 413'), (e: unknown) => e);
  assert.ok(big instanceof RelayError && big.code === 'PAYLOAD_TOO_LARGE' && big.status === 413, String(big));

  const out = sdk(fx.relay.ws, a.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  const denied = await out.uploadFile(Buffer.from('x'), 'x.txt').then(() => assert.fail('expected 401'), (e: unknown) => e);
  assert.ok(denied instanceof RelayError && denied.code === 'UNAUTHORIZED', String(denied));
});

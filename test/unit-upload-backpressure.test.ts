// UploadBody's pipe logic (src/http/upload.ts) against a slow consumer: the socket is paused while
// the stream's buffer is full and resumed when the consumer asks for more, so what is held stays
// near HIGH_WATER whatever the body's size. The socket here is a stand-in for uWS's HttpResponse
// that delivers chunks only while not paused, as a paused uWS socket does; the real server over
// real HTTP is tested in http-files-backpressure.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash, randomBytes } from 'node:crypto';
import type { HttpResponse } from 'uWebSockets.js';
import { UploadBody } from '../src/http/upload.js';

const KiB = 1024;
const CHUNK = 64 * KiB;
// upload.ts's HIGH_WATER.
const HIGH_WATER = 256 * KiB;

/** A socket that hands its body to onData in CHUNK pieces, only while it is not paused. */
function socket(body: Buffer) {
  let onData: ((chunk: ArrayBuffer, isLast: boolean) => void) | undefined;
  let paused = false;
  let pauses = 0;
  let wake: (() => void) | undefined;
  const res = {
    onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void) { onData = handler; },
    pause() { if (!paused) pauses++; paused = true; },
    resume() { paused = false; wake?.(); },
  };
  return {
    res: res as unknown as HttpResponse,
    get paused() { return paused; },
    get pauses() { return pauses; },
    /** Delivers the body, waiting while paused; `delivered` sees each chunk go. */
    async deliver(delivered: (bytes: number) => void): Promise<void> {
      for (let offset = 0; offset < body.length; offset += CHUNK) {
        while (paused) await new Promise<void>((r) => { wake = r; });
        wake = undefined;
        const piece = body.subarray(offset, offset + CHUNK);
        const chunk = new ArrayBuffer(piece.length);
        new Uint8Array(chunk).set(piece);
        delivered(piece.length);
        onData!(chunk, offset + CHUNK >= body.length);
        // uWS reuses the chunk's memory once the callback returns.
        new Uint8Array(chunk).fill(0);
        // Other I/O runs between two reads of a socket.
        await new Promise<void>((r) => setImmediate(r));
      }
    },
  };
}

test('a slow consumer pauses the socket: held bytes stay near HIGH_WATER, every byte arrives in order, the socket reads again at the end', async () => {
  const body = randomBytes(8 * 1024 * KiB);
  const sock = socket(body);
  const upload = new UploadBody(sock.res);
  assert.equal(sock.paused, true, 'paused until the route has authenticated');

  let delivered = 0;
  let consumed = 0;
  let mostHeld = 0;
  const hash = createHash('sha256');
  const slow = new Writable({
    highWaterMark: 16 * KiB,
    write(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      consumed += chunk.length;
      setTimeout(done, 2);
    },
  });
  const stream = upload.start(body.length);
  await Promise.all([
    sock.deliver((n) => { delivered += n; mostHeld = Math.max(mostHeld, delivered - consumed); }),
    pipeline(stream, slow),
  ]);

  console.log(`${sock.pauses} pauses, at most ${mostHeld} of ${body.length} bytes held`);
  assert.ok(sock.pauses > 1, `the socket was paused while the consumer was behind (${sock.pauses} pauses)`);
  assert.ok(mostHeld <= HIGH_WATER + 2 * CHUNK + 16 * KiB, `held at most ${mostHeld} bytes of ${body.length}`);
  assert.equal(sock.paused, false, 'the socket reads again once the body is complete');
  assert.equal(upload.size, body.length);
  assert.equal(hash.digest('hex'), createHash('sha256').update(body).digest('hex'), 'the bytes, in order');
  assert.equal(upload.sha256(), createHash('sha256').update(body).digest('hex'));
});

// PROTOCOL.md v1.2 "Files" over real HTTP: uploads (typed from their bytes, hashed, limited, within
// the quota, nothing kept when refused or abandoned), thumbnails, downloads by token or signed URL,
// ranges, and the headers that keep a file from being rendered as a page. The same suite runs
// on the local folder and on S3 (s3rver, started here), where downloads are 302s to presigned URLs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, TEST_SECRET, type RelayProcess } from './helpers/server.js';
import { signUp, type Account } from './helpers/client.js';
import { assertHttpError, assertLogsClean, eventually } from './helpers/kit.js';
import { startLocalS3, type LocalS3 } from './helpers/s3.js';
import { upload, png, rotatedJpeg, pdf, pngBomb } from './helpers/files.js';
import { createSigner } from '../src/files/signing.js';

const MAX = 3 * 1024 * 1024;
const QUOTA = 5 * 1024 * 1024;

/** GET a file path (signed or not), following no redirect. */
async function get(base: string, pathAndQuery: string, opts: { token?: string; range?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.range) headers.range = opts.range;
  return fetch(base + pathAndQuery, { headers, redirect: 'manual' });
}

/** The bytes behind a GET: the body, or the body at the 302's Location (S3). */
async function bytesOf(res: Response, mode: 'local' | 's3'): Promise<{ data: Buffer; res: Response }> {
  if (mode === 's3') {
    assert.equal(res.status, 302, 'S3: a 302 to a presigned URL');
    const location = res.headers.get('location');
    assert.ok(location && /X-Amz-Expires=/.test(location), `presigned: ${location}`);
    const direct = await fetch(location);
    return { data: Buffer.from(await direct.arrayBuffer()), res: direct };
  }
  assert.equal(res.status, 200);
  return { data: Buffer.from(await res.arrayBuffer()), res };
}

function suite(mode: 'local' | 's3'): void {
  describe(`files on ${mode === 'local' ? 'the local folder' : 'S3 (s3rver)'}`, () => {
    let db: TestDatabase;
    let relay: RelayProcess;
    let s3: LocalS3 | undefined;
    let dir: string;
    let alice: Account;
    let bob: Account;

    before(async () => {
      db = await createTestDatabase(`http_files_${mode}`);
      dir = await mkdtemp(path.join(os.tmpdir(), 'relay-files-test-'));
      if (mode === 's3') s3 = await startLocalS3();
      relay = await startRelay({
        DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000', FILES_DIR: dir, ...s3?.env,
        MAX_UPLOAD_BYTES: String(MAX), UPLOAD_QUOTA_BYTES: String(QUOTA), UPLOAD_RATE_PER_MINUTE: '40', FILE_URL_TTL: '10m',
      });
      alice = await signUp(relay.http, 'Alice');
      bob = await signUp(relay.http, 'Bob');
    });
    after(async () => {
      await relay?.stop();
      await s3?.stop();
      await db?.drop();
      await rm(dir, { recursive: true, force: true });
    });

    test('an image upload: typed from its bytes, sized, hashed, with a thumbnail', async () => {
      const image = await png(800, 500);
      // The name lies: the bytes say PNG.
      const res = await upload(relay.http, alice.token, 'holiday.txt', image, { 'content-type': 'text/plain' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const f = res.body;
      assert.deepEqual(Object.keys(f).sort(), ['contentType', 'createdAt', 'height', 'id', 'name', 'size', 'thumbnailUrl', 'url', 'width']);
      assert.match(f.id, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(f.name, 'holiday.txt');
      assert.equal(f.size, image.length);
      assert.equal(f.contentType, 'image/png');
      assert.equal(f.width, 800);
      assert.equal(f.height, 500);
      assert.match(f.url, new RegExp(`^/files/${f.id}\\?exp=\\d+&sig=[0-9a-f]{64}$`));
      assert.match(f.thumbnailUrl, new RegExp(`^/files/${f.id}/thumbnail\\?exp=\\d+&sig=[0-9a-f]{64}$`));

      const { data, res: served } = await bytesOf(await get(relay.http, `/files/${f.id}`, { token: alice.token }), mode);
      assert.ok(data.equals(image), 'the bytes come back as uploaded');
      assert.equal(served.headers.get('content-type'), 'image/png');
      assert.match(served.headers.get('content-disposition') ?? '', /^inline; filename="holiday.txt"/);
      if (mode === 'local') assert.equal(served.headers.get('x-content-type-options'), 'nosniff');

      const thumb = await bytesOf(await get(relay.http, f.thumbnailUrl), mode);
      const meta = await sharp(thumb.data).metadata();
      assert.equal(meta.format, 'webp');
      assert.ok(meta.width <= 320 && meta.height <= 320 && Math.max(meta.width, meta.height) === 320, `${meta.width}x${meta.height}`);
    });

    test('a JPEG with EXIF orientation: shown upright, and its thumbnail keeps no metadata', async () => {
      const res = await upload(relay.http, alice.token, 'camera.jpg', await rotatedJpeg());
      assert.equal(res.status, 201);
      assert.equal(res.body.contentType, 'image/jpeg');
      assert.deepEqual([res.body.width, res.body.height], [400, 600], 'orientation 6: width and height as shown');
      const thumb = await bytesOf(await get(relay.http, res.body.thumbnailUrl), mode);
      const meta = await sharp(thumb.data).metadata();
      assert.deepEqual([meta.width, meta.height], [213, 320], 'rotated upright');
      assert.equal(meta.exif, undefined, 'no EXIF');
      assert.ok(!thumb.data.includes(Buffer.from('RelayTestCamera')), 'no camera metadata in the bytes');
    });

    test('a PDF and a text file: typed, no thumbnail, served as attachments', async () => {
      const p = await upload(relay.http, alice.token, 'report.pdf', pdf());
      assert.equal(p.status, 201);
      assert.equal(p.body.contentType, 'application/pdf');
      assert.deepEqual([p.body.width, p.body.height, p.body.thumbnailUrl], [null, null, null]);
      const { res } = await bytesOf(await get(relay.http, p.body.url), mode);
      assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="report.pdf"/);
      assert.equal((await get(relay.http, `/files/${p.body.id}/thumbnail`, { token: alice.token })).status, 404);

      const t = await upload(relay.http, alice.token, 'notes.csv', Buffer.from('a,b\n1,2\n'));
      assert.equal(t.body.contentType, 'text/csv', 'bytes that tell nothing: the extension decides');
      const u = await upload(relay.http, alice.token, 'blob', randomBytes(100));
      assert.equal(u.body.contentType, 'application/octet-stream');
      const html = await upload(relay.http, alice.token, 'page.html', Buffer.from('<html><script>alert(1)</script></html>'));
      const served = await bytesOf(await get(relay.http, html.body.url), mode);
      assert.match(served.res.headers.get('content-disposition') ?? '', /^attachment/, 'HTML is never rendered inline');
      const name = await upload(relay.http, alice.token, 'отчёт "Q3".txt', Buffer.from('x'));
      const named = await bytesOf(await get(relay.http, name.body.url), mode);
      assert.equal(named.res.headers.get('content-disposition'),
        `attachment; filename="_____ _Q3_.txt"; filename*=UTF-8''${encodeURIComponent('отчёт "Q3".txt')}`);
    });

    test('a decompression bomb is a plain file: no thumbnail, no stall', async () => {
      const started = Date.now();
      const res = await upload(relay.http, alice.token, 'bomb.png', pngBomb());
      assert.equal(res.status, 201);
      assert.equal(res.body.contentType, 'image/png');
      assert.deepEqual([res.body.width, res.body.height, res.body.thumbnailUrl], [null, null, null]);
      assert.ok(Date.now() - started < 5000, 'answered at once');
      assert.equal((await fetch(`${relay.http}/health`)).status, 200);
    });

    test('reading: the uploader by token or anyone with the signed URL; 401 without either, 403 tampered or expired, 404 for others', async () => {
      const res = await upload(relay.http, alice.token, 'secret.bin', randomBytes(1000));
      const f = res.body;
      assertHttpError(await asAnswer(await get(relay.http, `/files/${f.id}`)), 401, 'UNAUTHORIZED');
      assertHttpError(await asAnswer(await get(relay.http, `/files/${f.id}`, { token: bob.token })), 404, 'NOT_FOUND');
      assertHttpError(await asAnswer(await get(relay.http, `/files/nosuchfilenosuchfile00`, { token: alice.token })), 404, 'NOT_FOUND');
      const tampered = f.url.replace(/sig=(.)/, (_m: string, c: string) => `sig=${c === 'a' ? 'b' : 'a'}`);
      assertHttpError(await asAnswer(await get(relay.http, tampered)), 403, 'FORBIDDEN');
      // Another file's signature does not open this one.
      const other = (await upload(relay.http, alice.token, 'other.bin', randomBytes(10))).body;
      assertHttpError(await asAnswer(await get(relay.http, `/files/${f.id}?${other.url.split('?')[1]}`)), 403, 'FORBIDDEN');
      // A thumbnail's signature does not open the file.
      const past = createSigner(TEST_SECRET, 1);
      const expired = past.url(f.id, 'f', Math.floor(Date.now() / 1000) - 5);
      assertHttpError(await asAnswer(await get(relay.http, expired)), 403, 'FORBIDDEN');
      const fresh = past.url(f.id, 'f', Math.floor(Date.now() / 1000) + 60);
      assert.equal((await get(relay.http, fresh)).status, mode === 's3' ? 302 : 200, 'the same key, signed by the test: valid');
      assertHttpError(await asAnswer(await get(relay.http, past.url(f.id, 't', Math.floor(Date.now() / 1000) + 60).replace('/thumbnail', ''))), 403, 'FORBIDDEN');
    });

    test('Range: 206 with Content-Range (S3: the presigned URL takes the range)', async () => {
      const data = randomBytes(100_000);
      const f = (await upload(relay.http, alice.token, 'video.bin', data)).body;
      let res = await get(relay.http, `/files/${f.id}`, { token: alice.token, range: 'bytes=1000-1999' });
      if (mode === 's3') {
        assert.equal(res.status, 302);
        res = await fetch(res.headers.get('location')!, { headers: { range: 'bytes=1000-1999' } });
      }
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), `bytes 1000-1999/${data.length}`);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(1000, 2000)));
      if (mode === 'local') {
        const tail = await get(relay.http, `/files/${f.id}`, { token: alice.token, range: 'bytes=-10' });
        assert.equal(tail.status, 206);
        assert.ok(Buffer.from(await tail.arrayBuffer()).equals(data.subarray(data.length - 10)));
        const past = await get(relay.http, `/files/${f.id}`, { token: alice.token, range: 'bytes=200000-' });
        assert.equal(past.status, 416);
        assert.equal(past.headers.get('content-range'), `bytes */${data.length}`);
      }
    });

    test('sizes: empty is 400, past MAX_UPLOAD_BYTES is 413 (announced or not), and nothing is kept', async () => {
      const carol = await signUp(relay.http, 'Carol');
      assertHttpError(await asAnswer(await upload(relay.http, carol.token, 'empty.txt', new Uint8Array(0))), 400, 'VALIDATION');
      assertHttpError(await asAnswer(await upload(relay.http, carol.token, 'big.bin', randomBytes(MAX + 1))), 413, 'PAYLOAD_TOO_LARGE');
      // Refused on its Content-Length alone: the answer comes before a byte of the body is sent.
      const early = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: relay.port, method: 'POST', path: '/files?name=huge.bin',
          headers: { authorization: `Bearer ${carol.token}`, 'content-length': String(100 * MAX) } }, (res) => { resolve(res.statusCode ?? 0); res.resume(); });
        req.on('error', reject);
        req.flushHeaders();
      });
      assert.equal(early, 413);
      // Without Content-Length (chunked): cut off once past the limit.
      const chunked = await rawUpload(relay.port, carol.token, 'big2.bin', [randomBytes(MAX), randomBytes(1024)]);
      assert.equal(chunked.status, 413);
      assert.equal(JSON.parse(chunked.body).code, 'PAYLOAD_TOO_LARGE');
      // An exact fit is fine.
      assert.equal((await upload(relay.http, carol.token, 'fits.bin', randomBytes(MAX))).status, 201);
      if (mode === 'local') await eventually('no partial upload left in tmp/', async () => (await readdir(path.join(dir, 'tmp'))).length === 0);
    });

    test('names: 1..255 characters without / \\ or control characters', async () => {
      for (const name of ['', 'a/b', 'a\\b', 'a\nb', 'x'.repeat(256)]) {
        assertHttpError(await asAnswer(await upload(relay.http, alice.token, name, Buffer.from('x'))), 400, 'VALIDATION', { what: JSON.stringify(name) });
      }
      assert.equal((await upload(relay.http, alice.token, '🙂'.repeat(255), Buffer.from('x'))).status, 201, '255 code points');
      assertHttpError(await asAnswer(await upload(relay.http, undefined, 'a.txt', Buffer.from('x'))), 401, 'UNAUTHORIZED');
    });

    test('quota: past UPLOAD_QUOTA_BYTES is 413 QUOTA_EXCEEDED, announced or found at the end', async () => {
      const dave = await signUp(relay.http, 'Dave');
      assert.equal((await upload(relay.http, dave.token, 'a.bin', randomBytes(MAX))).status, 201);
      assertHttpError(await asAnswer(await upload(relay.http, dave.token, 'b.bin', randomBytes(MAX))), 413, 'QUOTA_EXCEEDED');
      const chunked = await rawUpload(relay.port, dave.token, 'c.bin', [randomBytes(MAX - 10)]);
      assert.equal(chunked.status, 413);
      assert.equal(JSON.parse(chunked.body).code, 'QUOTA_EXCEEDED');
      assert.equal((await upload(relay.http, dave.token, 'd.bin', randomBytes(1000))).status, 201, 'what fits still goes');
    });

    test('an abandoned upload leaves nothing behind', async () => {
      const erin = await signUp(relay.http, 'Erin');
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port: relay.port, method: 'POST', path: '/files?name=gone.bin',
          headers: { authorization: `Bearer ${erin.token}`, 'content-length': String(MAX) } });
        req.on('error', () => resolve());
        req.write(randomBytes(1024 * 1024), () => setTimeout(() => { req.destroy(); resolve(); }, 200));
      });
      // The same account then fits files of the whole quota: nothing of the abandoned one counts.
      assert.equal((await upload(relay.http, erin.token, 'ok.bin', randomBytes(MAX))).status, 201);
      assert.equal((await upload(relay.http, erin.token, 'ok2.bin', randomBytes(QUOTA - MAX))).status, 201);
      if (mode === 'local') await eventually('no partial upload left in tmp/', async () => (await readdir(path.join(dir, 'tmp'))).length === 0);
    });

    if (mode === 'local') {
      test('uploads are rate limited per account (429 with Retry-After)', async () => {
        const fred = await signUp(relay.http, 'Fred');
        let limited: Uploaded | undefined;
        for (let i = 0; i < 45 && !limited; i++) {
          const res = await upload(relay.http, fred.token, `n${i}.txt`, Buffer.from('x'));
          if (res.status === 429) limited = res;
        }
        assert.ok(limited, 'refused within 45 uploads at 40 a minute');
        assert.equal(limited.body.code, 'RATE_LIMITED');
        assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      });
    }

    test('the logs hold no secrets or errors', () => {
      assertLogsClean(relay.logs, { secrets: [alice.token, bob.token], expect: ['listening'] });
    });
  });
}

type Uploaded = Awaited<ReturnType<typeof upload>>;

async function asAnswer(res: Response | Uploaded): Promise<{ status: number; body: any; headers: Headers }> {
  if (!(res instanceof Response)) return res;
  const text = await res.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* keep text */ }
  return { status: res.status, body, headers: res.headers };
}

/** An upload without Content-Length (chunked transfer encoding), in the given pieces. */
function rawUpload(port: number, token: string, name: string, pieces: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: `/files?name=${name}`,
      headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const p of pieces) req.write(p);
    req.end();
  });
}

suite('local');
suite('s3');

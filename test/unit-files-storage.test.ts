// The storage contract (src/files/storage.ts), one suite run against both drivers: the local
// folder and S3 (s3rver, started here). Writes are all-or-nothing, reads take ranges, deletes
// are idempotent, a failed body leaves nothing behind, and S3 hands out working presigned URLs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { createLocalStorage } from '../src/files/local.js';
import { createS3Storage } from '../src/files/s3.js';
import { NotStored, type FileStorage } from '../src/files/storage.js';
import { startLocalS3, type LocalS3 } from './helpers/s3.js';

/** A stream of `total` random bytes in chunks of `chunk`, failing after `failAt` bytes if given. */
function source(data: Buffer, chunk = 64 * 1024, failAt?: number): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (failAt !== undefined && at >= failAt) { this.destroy(new Error('client went away')); return; }
      if (at >= data.length) { this.push(null); return; }
      this.push(data.subarray(at, at + chunk));
      at += chunk;
    },
  });
}

function contract(name: string, open: () => Promise<{ storage: FileStorage; leftovers(): Promise<number> }>): void {
  describe(`storage contract: ${name}`, () => {
    let storage: FileStorage;
    let leftovers: () => Promise<number>;
    before(async () => { ({ storage, leftovers } = await open()); });
    after(() => storage?.close());

    test('a stored file reads back whole and by range', async () => {
      const data = randomBytes(300_000);
      await storage.put('k1aaaaaaaaaaaaaaaaaaaa', source(data), 'application/octet-stream');
      assert.deepEqual(await buffer(await storage.read('k1aaaaaaaaaaaaaaaaaaaa')), data);
      assert.deepEqual(await buffer(await storage.read('k1aaaaaaaaaaaaaaaaaaaa', { start: 1000, end: 1999 })), data.subarray(1000, 2000));
    });

    test('a file larger than one S3 part (multipart) reads back whole', async () => {
      const data = randomBytes(11 * 1024 * 1024 + 17);
      await storage.put('k2bbbbbbbbbbbbbbbbbbbb', source(data, 256 * 1024), 'application/pdf');
      const back = await buffer(await storage.read('k2bbbbbbbbbbbbbbbbbbbb'));
      assert.equal(back.length, data.length);
      assert.ok(back.equals(data));
    });

    test('a body that fails midway leaves nothing under the key, nor any temporary file', async () => {
      const data = randomBytes(7 * 1024 * 1024);
      await assert.rejects(storage.put('k3cccccccccccccccccccc', source(data, 128 * 1024, 6 * 1024 * 1024), 'image/png'));
      await assert.rejects(storage.read('k3cccccccccccccccccccc'), NotStored);
      assert.equal(await leftovers(), 0);
    });

    test('an unknown key is NotStored; deleting is idempotent', async () => {
      await assert.rejects(storage.read('nonexistentkeyxxxxxxxx'), NotStored);
      await storage.put('k4dddddddddddddddddddd', source(Buffer.from('hello')), 'text/plain');
      await storage.delete('k4dddddddddddddddddddd');
      await storage.delete('k4dddddddddddddddddddd');
      await assert.rejects(storage.read('k4dddddddddddddddddddd'), NotStored);
    });

    test('presign: a URL for S3 that serves the bytes with the given headers; none for the local folder', async () => {
      const data = randomBytes(1000);
      await storage.put('k5eeeeeeeeeeeeeeeeeeee', source(data), 'application/pdf');
      const url = await storage.presign('k5eeeeeeeeeeeeeeeeeeee', 60, { contentType: 'application/pdf', disposition: 'attachment; filename="a.pdf"' });
      if (storage.kind === 'local') { assert.equal(url, undefined); return; }
      assert.ok(url);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/pdf');
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="a.pdf"');
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
      const expired = await storage.presign('k5eeeeeeeeeeeeeeeeeeee', 1, { contentType: 'application/pdf', disposition: 'attachment' });
      await new Promise((r) => setTimeout(r, 2100));
      assert.equal((await fetch(expired!)).status, 403, 'an expired presigned URL is refused');
    });
  });
}

let dir: string;
let s3: LocalS3;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'relay-files-'));
  s3 = await startLocalS3();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  await s3?.stop();
});

contract('local folder', async () => ({
  storage: await createLocalStorage(dir),
  leftovers: async () => (await readdir(path.join(dir, 'tmp'))).length,
}));

contract('S3 (s3rver)', async () => ({
  storage: createS3Storage({ bucket: s3.bucket, endpoint: s3.endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true }),
  // A failed multipart upload is aborted: no upload is left pending in the bucket.
  leftovers: async () => {
    const { S3Client, ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    try {
      const out = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket })).catch(() => ({ Uploads: [] }));
      return out.Uploads?.length ?? 0;
    } finally {
      client.destroy();
    }
  },
}));

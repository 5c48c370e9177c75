// The web app's CSP with files (PROTOCOL.md v1.2 "Files"; issue 24): images from this origin and
// blob: only, plus the bucket's origin when downloads are redirected to presigned S3 URLs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appCsp } from '../src/http/routes/app.js';
import { storageOrigins } from '../src/files/open.js';
import { loadConfig } from '../src/config.js';

const imgSrc = (csp: string): string | undefined => csp.split('; ').find((d) => d.startsWith('img-src'));

test('local folder: img-src is \'self\' blob: and nothing else', () => {
  assert.deepEqual(storageOrigins(loadConfig({})), []);
  assert.equal(imgSrc(appCsp(storageOrigins(loadConfig({})))), "img-src 'self' blob:");
});

test('S3: the bucket\'s origin is added (path style: the endpoint; virtual hosted: the bucket\'s host; AWS by region)', () => {
  const minio = loadConfig({ S3_BUCKET: 'relay', S3_ENDPOINT: 'http://127.0.0.1:9000/', S3_FORCE_PATH_STYLE: '1' });
  assert.equal(imgSrc(appCsp(storageOrigins(minio))), "img-src 'self' blob: http://127.0.0.1:9000");
  const r2 = loadConfig({ S3_BUCKET: 'relay', S3_ENDPOINT: 'https://acct.r2.cloudflarestorage.com', S3_REGION: 'auto' });
  assert.deepEqual(storageOrigins(r2), ['https://relay.acct.r2.cloudflarestorage.com']);
  const aws = loadConfig({ S3_BUCKET: 'relay', S3_REGION: 'eu-central-1' });
  assert.deepEqual(storageOrigins(aws), ['https://relay.s3.eu-central-1.amazonaws.com']);
  for (const c of [minio, r2, aws]) assert.doesNotMatch(appCsp(storageOrigins(c)), /unsafe|data:|\*/);
});

// The files settings (PROTOCOL.md v1.2 "Files"): defaults, durations like JWT_TTL, and a cluster
// that refuses to start on each node's default folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.js';
import { TEST_VAPID } from './helpers/vapid.js';

const SECRET = 'x'.repeat(40);
// And a shared Web Push key pair.
const VAPID = TEST_VAPID;

test('defaults: 25 MiB uploads, 1 GiB quota, URLs for 1 h, orphans kept 24 h, the local folder', () => {
  const c = loadConfig({});
  assert.equal(c.MAX_UPLOAD_BYTES, 25 * 1024 * 1024);
  assert.equal(c.UPLOAD_QUOTA_BYTES, 1024 * 1024 * 1024);
  assert.equal(c.FILE_URL_TTL, 3600);
  assert.equal(c.FILE_ORPHAN_TTL, 86400);
  assert.equal(c.FILES_DIR, undefined);
  assert.equal(c.S3_BUCKET, undefined);
  assert.equal(loadConfig({ FILE_URL_TTL: '15m', FILE_ORPHAN_TTL: '2d' }).FILE_ORPHAN_TTL, 172800);
  assert.throws(() => loadConfig({ FILE_URL_TTL: 'soon' }), /FILE_URL_TTL/);
});

test('a cluster on the default folder refuses to start and says why; FILES_DIR or S3_BUCKET lets it', () => {
  for (const redis of [{ REDIS_URL: 'redis://127.0.0.1:6379' }, { REDIS_CLUSTER_NODES: '127.0.0.1:7000' }]) {
    assert.throws(() => loadConfig({ ...redis, ...VAPID, JWT_SECRET: SECRET }), (err: unknown) =>
      err instanceof ConfigError && /FILES_DIR: must be set when REDIS_(URL|CLUSTER_NODES) is/.test(err.message) && /S3_BUCKET/.test(err.message));
    assert.equal(loadConfig({ ...redis, ...VAPID, JWT_SECRET: SECRET, FILES_DIR: '/srv/relay-files' }).FILES_DIR, '/srv/relay-files');
    assert.equal(loadConfig({ ...redis, ...VAPID, JWT_SECRET: SECRET, S3_BUCKET: 'relay' }).S3_BUCKET, 'relay');
  }
});

test('the S3 secret key is never echoed in a configuration error', () => {
  assert.throws(() => loadConfig({ S3_SECRET_ACCESS_KEY: 'sup3r-secret', S3_ENDPOINT: 'not a url' }), (err: unknown) =>
    err instanceof ConfigError && /S3_ENDPOINT/.test(err.message) && !err.message.includes('sup3r-secret'));
});

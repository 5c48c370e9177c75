// REDIS_CLUSTER_NODES: validated at start like every setting, exclusive with REDIS_URL, with the
// password and TLS in the same URL form as REDIS_URL, and never echoed (it may hold a password).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.js';

const SECRET = 'x'.repeat(40);
// A cluster needs a shared uploads folder (or S3): not what these tests are about.
const FILES = '/srv/relay-files';

test('host:port seeds are read as the cluster\'s seed nodes', () => {
  const c = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, redis-1:7001,[::1]:7002', JWT_SECRET: SECRET, FILES_DIR: FILES });
  assert.deepEqual(c.REDIS_CLUSTER_NODES, {
    nodes: [{ host: '127.0.0.1', port: 7000 }, { host: 'redis-1', port: 7001 }, { host: '::1', port: 7002 }],
    tls: false,
  });
  assert.equal(c.REDIS_URL, undefined);
});

test('the URL form carries the password and TLS, as REDIS_URL does', () => {
  const c = loadConfig({ REDIS_CLUSTER_NODES: 'rediss://relay:s%40cret@a:6380,rediss://relay:s%40cret@b:6380', JWT_SECRET: SECRET, FILES_DIR: FILES });
  assert.deepEqual(c.REDIS_CLUSTER_NODES, {
    nodes: [{ host: 'a', port: 6380 }, { host: 'b', port: 6380 }], username: 'relay', password: 's@cret', tls: true,
  });
  const bare = loadConfig({ REDIS_CLUSTER_NODES: 'redis://:pw@a:7000,b:7001', JWT_SECRET: SECRET, FILES_DIR: FILES });
  assert.equal(bare.REDIS_CLUSTER_NODES?.password, 'pw');
  assert.equal(bare.REDIS_CLUSTER_NODES?.tls, false);
});

test('REDIS_URL and REDIS_CLUSTER_NODES together is a configuration error that names both', () => {
  assert.throws(
    () => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000', JWT_SECRET: SECRET, FILES_DIR: FILES }),
    (err: Error) => err instanceof ConfigError && /REDIS_URL, REDIS_CLUSTER_NODES: set one of them/.test(err.message),
  );
});

test('a cluster needs a shared JWT_SECRET, like REDIS_URL', () => {
  assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }), /JWT_SECRET: must be set when REDIS_CLUSTER_NODES is/);
});

test('bad seed lists are refused with a message that does not echo them', () => {
  for (const bad of ['127.0.0.1', 'a:0', 'a:70000', 'a:7000,,b:7001', 'http://a:7000', 'redis://:hunter2@a', 'a:7000 b:7001']) {
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: bad, JWT_SECRET: SECRET, FILES_DIR: FILES }), (err: Error) => {
      assert.ok(err instanceof ConfigError, bad);
      assert.match(err.message, /REDIS_CLUSTER_NODES: entry \d+ must be host:port or redis\[s\]:\/\/\[user:password@\]host:port/, bad);
      assert.ok(!err.message.includes('hunter2'), 'no password in the message');
      return true;
    }, bad);
  }
  assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis://a:7000,rediss://b:7001', JWT_SECRET: SECRET, FILES_DIR: FILES }), /cannot be mixed/);
  assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis://:one@a:7000,redis://:two@b:7001', JWT_SECRET: SECRET, FILES_DIR: FILES }), (err: Error) => /different credentials/.test(err.message) && !/one|two/.test(err.message.replace('one user', '')));
});

// REDIS_CLUSTER_NODES: validated at start like every setting, exclusive with REDIS_URL, with the
// password and TLS in the same URL form as REDIS_URL, and never echoed (it may hold a password).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.js';
import { TEST_VAPID } from './helpers/vapid.js';

const SECRET = 'x'.repeat(40);
// A cluster needs a shared uploads folder (or S3): not what these tests are about.
const FILES = '/srv/relay-files';
// And a shared Web Push key pair.
const VAPID = TEST_VAPID;

test('host:port seeds are read as the cluster\'s seed nodes', () => {
  const c = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, redis-1:7001,[::1]:7002', JWT_SECRET: SECRET, FILES_DIR: FILES, ...VAPID });
  assert.deepEqual(c.REDIS_CLUSTER_NODES, {
    nodes: [{ host: '127.0.0.1', port: 7000 }, { host: 'redis-1', port: 7001 }, { host: '::1', port: 7002 }],
    tls: false,
  });
  assert.equal(c.REDIS_URL, undefined);
});

test('the URL form carries the password and TLS, as REDIS_URL does', () => {
  const c = loadConfig({ REDIS_CLUSTER_NODES: 'rediss://relay:s%40cret@a:6380,rediss://relay:s%40cret@b:6380', JWT_SECRET: SECRET, FILES_DIR: FILES, ...VAPID });
  assert.deepEqual(c.REDIS_CLUSTER_NODES, {
    nodes: [{ host: 'a', port: 6380 }, { host: 'b', port: 6380 }], username: 'relay', password: 's@cret', tls: true,
  });
  const bare = loadConfig({ REDIS_CLUSTER_NODES: 'redis://:pw@a:7000,b:7001', JWT_SECRET: SECRET, FILES_DIR: FILES, ...VAPID });
  assert.equal(bare.REDIS_CLUSTER_NODES?.password, 'pw');
  assert.equal(bare.REDIS_CLUSTER_NODES?.tls, false);
});

test('REDIS_URL and REDIS_CLUSTER_NODES together is a configuration error that names both', () => {
  assert.throws(
    () => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000', JWT_SECRET: SECRET, FILES_DIR: FILES, ...VAPID }),
    (err: Error) => err instanceof ConfigError && /REDIS_URL, REDIS_CLUSTER_NODES: set one of them/.test(err.message),
  );
});

test('a cluster needs a shared JWT_SECRET, like REDIS_URL', () => {
  assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }), /JWT_SECRET: must be set when REDIS_CLUSTER_NODES is/);
});

test('bad seed lists are refused with a message that does not echo them', () => {
  for (const bad of ['127.0.0.1', 'a:0', 'a:70000', 'a:7000,,b:7001', 'http://a:7000', 'redis://:hunter2@a', 'a:7000 b:7001']) {
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: bad, JWT_SECRET: SECRET, FILES_DIR: FILES, ...VAPID }), (err: Error) => {
      assert.ok(err instanceof ConfigError, bad);
      assert.match(err.message, /REDIS_CLUSTER_NODES: entry \d+ must be host:port or redis\[s\]:\/\/\[user:password@\]host:port/, bad);
      assert.ok(!err.message.includes('hunter2'), 'no password in the message');
      return true;
    }, bad);
  }
  assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis://a:7000,rediss://b:7001', JWT_SECRET: SECRET, FILES_DIR: FILES, ...VAPID }), /cannot be mixed/);
  assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis://:one@a:7000,redis://:two@b:7001', JWT_SECRET: SECRET, FILES_DIR: FILES, ...VAPID }), (err: Error) => /different credentials/.test(err.message) && !/one|two/.test(err.message.replace('one user', '')));
});

test('a cluster needs a shared VAPID key pair, like JWT_SECRET: the message names the keys and how to make them', () => {
  for (const redis of [{ REDIS_URL: 'redis://127.0.0.1:6379' }, { REDIS_CLUSTER_NODES: '127.0.0.1:7000' }]) {
    const key = Object.keys(redis)[0]!;
    for (const push of [{}, { PUSH_ENABLED: '1' }, { PUSH_ENABLED: 'true' }]) {
      assert.throws(() => loadConfig({ ...redis, ...push, JWT_SECRET: SECRET, FILES_DIR: FILES }), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, new RegExp(`VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: must be set when ${key} is`));
        assert.match(err.message, /npx web-push generate-vapid-keys/);
        assert.match(err.message, /PUSH_ENABLED=0/);
        return true;
      });
    }
    // Half a pair is refused as such, in a cluster as on one node.
    assert.throws(() => loadConfig({ ...redis, JWT_SECRET: SECRET, FILES_DIR: FILES, VAPID_PUBLIC_KEY: VAPID.VAPID_PUBLIC_KEY }), /set both of them/);
    const c = loadConfig({ ...redis, JWT_SECRET: SECRET, FILES_DIR: FILES, ...VAPID });
    assert.equal(c.VAPID_PUBLIC_KEY, VAPID.VAPID_PUBLIC_KEY);
    assert.equal(c.VAPID_PRIVATE_KEY, VAPID.VAPID_PRIVATE_KEY);
    // No notifications sent: no key pair needed.
    assert.equal(loadConfig({ ...redis, JWT_SECRET: SECRET, FILES_DIR: FILES, PUSH_ENABLED: '0' }).PUSH_ENABLED, false);
  }
  // One node makes its own pair in DATA_DIR.
  assert.equal(loadConfig({}).VAPID_PUBLIC_KEY, undefined);
});

test('the VAPID private key is never echoed in a configuration error', () => {
  assert.throws(() => loadConfig({ VAPID_PUBLIC_KEY: VAPID.VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: 'hunter2-private-key' }), (err: Error) =>
    err instanceof ConfigError && /VAPID_PRIVATE_KEY/.test(err.message) && !err.message.includes('hunter2'));
});

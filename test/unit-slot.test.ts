// The hash slot of a shard channel, as Redis Cluster computes it (CRC16/XMODEM mod 16384, hash tags).
// cluster-sharded.test.ts also checks it against CLUSTER KEYSLOT of a real cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../src/pubsub/slot.js';

test('slots of known keys (values from the Redis Cluster specification and redis-cli)', () => {
  // CRC16("123456789") = 0x31C3 (the spec's check value).
  assert.equal(keySlot('123456789'), 0x31c3 % 16384);
  assert.equal(keySlot('foo'), 12182);
  assert.equal(keySlot('bar'), 5061);
  assert.equal(keySlot(''), 0);
});

test('a hash tag: only what is between the first { and the next } counts, when not empty', () => {
  assert.equal(keySlot('{user1000}.following'), keySlot('user1000'));
  assert.equal(keySlot('{user1000}.followers'), keySlot('user1000'));
  assert.equal(keySlot('relay:{presence}:u:1'), keySlot('presence'));
  // An empty tag is no tag: the whole name is hashed.
  assert.notEqual(keySlot('foo{}{bar}'), keySlot('bar'));
  assert.equal(keySlot('foo{{bar}}zap'), keySlot('{bar'));
  assert.equal(keySlot('foo{bar}{zap}'), keySlot('bar'));
});

test('multi-byte names are hashed as UTF-8', () => {
  assert.ok(keySlot('é') >= 0 && keySlot('é') < 16384);
  assert.notEqual(keySlot('é'), keySlot('e'));
});

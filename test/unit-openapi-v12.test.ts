// The OpenAPI document describes v1.2 replies, mentions, reactions and pins: the new types' request
// schemas (from the handlers' own valibot schemas), their reply data and pushes, and the fields the
// older types gain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOpenApi } from '../src/http/openapi.js';

type Doc = Record<string, Record<string, any>>;

test('v1.2 types, replies, pushes and added fields are in the OpenAPI document', () => {
  const doc = buildOpenApi() as Doc;
  const ws = doc['x-websocket-messages']!;
  for (const type of ['addReaction', 'removeReaction', 'pinMessage', 'unpinMessage', 'getPinned']) {
    assert.ok(ws[type], `${type} request`);
    assert.ok(doc['x-websocket-replies']![type], `${type} reply`);
    assert.ok(doc.components!.schemas[`ws_${type}`], `${type} component`);
  }
  for (const type of ['addReaction', 'removeReaction', 'pinMessage', 'unpinMessage']) assert.ok(doc['x-websocket-pushes']![type]?.properties?.userId, `${type} push`);
  assert.deepEqual(Object.keys(ws.addReaction.properties.params.properties).sort(), ['emoji', 'messageId']);
  assert.deepEqual(Object.keys(ws.getPinned.properties.params.properties).sort(), ['groupId', 'receiverId']);
  assert.ok(ws.messageInGroup.properties.params.properties.replyToId);
  assert.equal(ws.messageInGroup.properties.params.properties.mentions.type, 'array');
  assert.ok(ws.privateMessage.properties.params.properties.replyToId);
  assert.ok(doc['x-websocket-pushes']!.addReaction.properties.count);
  const replies = doc['x-websocket-replies']!;
  assert.ok(replies.listLastMessage.allOf[1].items.properties.mentionCount, 'mentionCount, with the v1.1 description kept');
  assert.match(replies.listLastMessage.allOf[0].description, /unreadCount/);
  for (const type of ['getlatestMessageDialog', 'getlatestMessageGroup']) assert.ok(replies[type].allOf[1].items.properties.reactions);
  assert.ok(replies.editMessage.allOf[1].properties.replyTo);
});

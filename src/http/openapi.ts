import * as v from 'valibot';
import { toJsonSchema } from '@valibot/to-json-schema';
import { SignUpBody, LoginBody } from './routes/auth.js';
import { ProfilePatchBody, PasswordBody } from './routes/profile.js';
import { handlers } from '../ws/handlers/index.js';
import { conversationPushes, conversationReplies } from './wsDocs.js';
import { v12Pushes, v12Replies, v12RowAdditions } from './wsDocsV12.js';
import { searchBlockPushes, searchBlockReplies } from './wsDocsSearchBlock.js';
import { pushPaths, pushPushes, pushReplies, pushWebhooks } from './pushDocs.js';
import { fileRowAdditions, FileSchema, filePaths } from './filesDocs.js';

// Checks written as functions (white space, code points) have no JSON Schema form; the
// descriptions carry them instead.
const schema = (s: v.GenericSchema) => toJsonSchema(s, { errorMode: 'ignore', typeMode: 'input' });

const User = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, email: { type: 'string' }, firstName: { type: 'string' },
    lastName: { type: ['string', 'null'] }, createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'email', 'firstName', 'lastName', 'createdAt'],
};
const ErrorBody = {
  type: 'object',
  properties: { error: { const: true }, message: { type: 'string' }, code: { type: 'string' } },
  required: ['error', 'message', 'code'],
};
const Token = { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] };

const int = { type: 'integer' };
const nullableInt = { type: ['integer', 'null'] };
const obj = (properties: Record<string, object>) => ({ type: 'object', properties, required: Object.keys(properties) });
const Role = { enum: ['owner', 'admin', 'member'] };
const date = { type: 'string', format: 'date-time' };

/** v1.1 reply data of the new WebSocket message types (PROTOCOL.md "v1.1"). */
const wsReplies = {
  typing: { const: null },
  getPresence: { type: 'array', items: obj({ userId: int, online: { type: 'boolean' }, lastSeenAt: { type: ['string', 'null'], format: 'date-time' } }) },
  getGroup: obj({ groupId: int, groupName: { type: 'string' }, createdAt: date, ownerId: nullableInt, memberCount: int, role: Role, lastSeq: int }),
  getGroupMembers: { type: 'array', items: obj({ userId: int, firstName: { type: 'string' }, lastName: { type: ['string', 'null'] }, role: Role, joinedAt: date, lastReadId: nullableInt }) },
  renameGroup: obj({ groupId: int, groupName: { type: 'string' } }),
  removeUserFromGroup: { const: null },
  setMemberRole: { const: null },
};

/** v1.1 push events: `params.data` of each (the envelope is the v1 one; `message` may be null). */
const wsPushes = {
  typing: obj({ userId: int, receiverId: nullableInt, groupId: nullableInt }),
  presence: obj({ userId: int, online: { type: 'boolean' }, lastSeenAt: { type: ['string', 'null'], format: 'date-time' } }),
  renameGroup: obj({ groupId: int, groupName: { type: 'string' } }),
  removeUserFromGroup: obj({ groupId: int, userId: int, userName: { type: 'string' } }),
  setMemberRole: obj({ groupId: int, userId: int, role: Role }),
};

const body = (s: v.GenericSchema) => ({ required: true, content: { 'application/json': { schema: schema(s) } } });
const ok = (description: string, s?: object) => ({ description, ...(s ? { content: { 'application/json': { schema: s } } } : {}) });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]));
const secured = [{ bearer: [] }];

/** Reply data per type: each version's additions to an older type combined with what it had (allOf). */
function wsReplyDocs(): Record<string, object> {
  const replies: Record<string, object> = { ...wsReplies, ...conversationReplies, ...v12Replies, ...searchBlockReplies, ...pushReplies };
  // One flat allOf per type: its own description first, then what each later part adds.
  const parts: Record<string, object[]> = {};
  for (const additions of [v12RowAdditions, fileRowAdditions]) {
    for (const [type, add] of Object.entries(additions)) (parts[type] ??= replies[type] ? [replies[type]] : []).push(add);
  }
  for (const [type, list] of Object.entries(parts)) replies[type] = list.length === 1 ? list[0]! : { allOf: list };
  return replies;
}

/** The OpenAPI 3.1 document, built from the same valibot schemas the server validates with. */
export function buildOpenApi(): object {
  const wsMessages = Object.fromEntries(
    [...handlers].map(([type, h]) => [type, {
      type: 'object',
      properties: { type: { const: type }, params: schema(h.params), requestId: { type: ['string', 'number'] } },
      required: ['type'],
    }]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Relay',
      version: '1.0.0',
      description:
        'Messenger backend. HTTP for accounts; everything else over one WebSocket on the same port ' +
        '(`ws://host:3000`, token in `Authorization: Bearer` or `Sec-WebSocket-Protocol: auth, <token>`). ' +
        'The WebSocket request schemas are under `components.schemas.ws_*` and `x-websocket-messages`; the reply data ' +
        'of the v1.1 types under `x-websocket-replies`, and the data of the v1.1 pushes under `x-websocket-pushes` ' +
        '(seq, read markers, edit and delete included), and v1.2\'s replies, mentions, reactions, pins, search and blocking. ' +
        '`typing`, `markRead` and `getPinned` take exactly one of `receiverId` or `groupId`. ' +
        'v1.2 files: `POST /files` uploads, `GET /files/{id}` (and `/thumbnail`) downloads, and sends take `attachments`.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        User, Error: ErrorBody, File: FileSchema,
        ...Object.fromEntries(Object.entries(wsMessages).map(([k, s]) => [`ws_${k}`, s])),
      },
    },
    'x-websocket-messages': wsMessages,
    'x-websocket-replies': wsReplyDocs(),
    'x-websocket-pushes': { ...wsPushes, ...conversationPushes, ...v12Pushes, ...searchBlockPushes, ...pushPushes },
    webhooks: pushWebhooks,
    paths: {
      '/auth/sign-up': { post: { summary: 'Create an account', requestBody: body(SignUpBody),
        responses: { 201: ok('Account and token', { type: 'object', properties: { user: User, token: { type: 'string' } } }), ...errors(400, 409, 413, 429) } } },
      '/auth/login': { post: { summary: 'Log in', requestBody: body(LoginBody),
        responses: { 200: ok('Token', { type: 'object', properties: { message: { type: 'string' }, token: { type: 'string' }, user: User } }), ...errors(400, 401, 429) } } },
      '/auth/refresh': { post: { summary: 'A new token with a new expiry', security: secured, responses: { 200: ok('Token', Token), ...errors(401) } } },
      '/profile': {
        get: { summary: 'Your account', security: secured, responses: { 200: ok('Account', User), ...errors(401) } },
        patch: { summary: 'Change email or names', security: secured, requestBody: body(ProfilePatchBody), responses: { 200: ok('Account', User), ...errors(400, 401, 409) } },
        delete: { summary: 'Delete your account (tokens stop working, sockets close, personal data erased)', security: secured, responses: { 200: ok('Deleted'), ...errors(401) } },
      },
      '/profile/password': { patch: { summary: 'Change password; every older token stops working', security: secured,
        requestBody: body(PasswordBody), responses: { 200: ok('A fresh token', Token), ...errors(400, 401) } } },
      '/users': { get: { summary: 'Find active accounts by name prefix or exact email', security: secured,
        parameters: [
          { name: 'search', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, default: 1 } },
        ],
        responses: { 200: ok('Accounts', { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, firstName: { type: 'string' }, lastName: { type: ['string', 'null'] } } } }), ...errors(400, 401) } } },
      ...filePaths,
      '/api/': { get: { summary: 'This documentation (Swagger UI)', responses: { 200: { description: 'HTML page', content: { 'text/html': {} } } } } },
      '/api/openapi.json': { get: { summary: 'This OpenAPI document', responses: { 200: ok('OpenAPI 3.1 document', { type: 'object' }) } } },
      '/health': { get: { summary: 'Liveness', responses: { 200: ok('Up') } } },
      '/ready': { get: { summary: 'Readiness: database (and cluster relay) reachable', responses: { 200: ok('Ready'), 503: ok('Not ready') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: ok('Metrics') } } },
      ...pushPaths,
    },
  };
}

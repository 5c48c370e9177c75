/**
 * The v1.2 files part of the OpenAPI document (PROTOCOL.md "Files"): the three routes, the `file`
 * shape, and what attachments add to the WebSocket messages.
 */
const nullableInt = { type: ['integer', 'null'] };
const FILE_ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' };

export const FileSchema = {
  type: 'object',
  description: 'An uploaded file. url and thumbnailUrl are signed paths on this server, valid FILE_URL_TTL (default 1 h), ' +
    'readable without a token (so <img src> works). width, height and thumbnailUrl are null unless the file is a JPEG, PNG, ' +
    'GIF or WebP image that decodes.',
  properties: {
    id: FILE_ID, name: { type: 'string' }, size: { type: 'integer', minimum: 1 },
    contentType: { type: 'string', description: 'Read from the bytes, not from the upload; for text, from the name\'s extension; else application/octet-stream.' },
    width: nullableInt, height: nullableInt, url: { type: 'string' }, thumbnailUrl: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'name', 'size', 'contentType', 'width', 'height', 'url', 'thumbnailUrl', 'createdAt'],
};

const fileRef = { $ref: '#/components/schemas/File' };
const error = { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const signed = [
  { name: 'exp', in: 'query', schema: { type: 'integer' }, description: 'Expiry of a signed URL (seconds since the epoch): from url/thumbnailUrl.' },
  { name: 'sig', in: 'query', schema: { type: 'string' }, description: 'Signature of a signed URL: from url/thumbnailUrl.' },
];
const idParam = { name: 'id', in: 'path', required: true, schema: FILE_ID };
const readErrors = {
  401: { ...error, description: 'Neither a token nor a signature' },
  403: { ...error, description: 'A tampered or expired signature' },
  404: { ...error, description: 'No such file, or not one the token\'s owner may read (its uploader, or a member of a conversation where a message that is not deleted carries it)' },
};

export const filePaths = {
  '/files': {
    post: {
      summary: 'Upload a file: the body is its bytes as they are (not multipart), at most MAX_UPLOAD_BYTES (default 25 MiB)',
      security: [{ bearer: [] }],
      parameters: [{ name: 'name', in: 'query', required: true, schema: { type: 'string', minLength: 1, maxLength: 255 },
        description: '1..255 code points, no /, \\ or control characters' }],
      requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
      responses: {
        201: { description: 'The stored file', content: { 'application/json': { schema: fileRef } } },
        400: { ...error, description: 'VALIDATION: an empty body or a bad name' },
        401: error,
        413: { ...error, description: 'PAYLOAD_TOO_LARGE (past MAX_UPLOAD_BYTES, refused on Content-Length before reading) or QUOTA_EXCEEDED (past UPLOAD_QUOTA_BYTES of files kept, default 1 GiB)' },
        429: { ...error, description: 'RATE_LIMITED: UPLOAD_RATE_PER_MINUTE per account (Retry-After)' },
      },
    },
  },
  '/files/{id}': {
    get: {
      summary: 'The file\'s bytes (Range: 206), or with S3 storage a 302 to a presigned URL; nosniff, and Content-Disposition: attachment but for JPEG, PNG, GIF and WebP',
      security: [{ bearer: [] }, {}],
      parameters: [idParam, ...signed, { name: 'Range', in: 'header', schema: { type: 'string' }, description: 'bytes=a-b, bytes=a- or bytes=-n' }],
      responses: {
        200: { description: 'The bytes', content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        206: { description: 'The requested range (Content-Range)' },
        302: { description: 'S3 storage: Location is a presigned URL valid FILE_URL_TTL' },
        416: { description: 'A range outside the file' },
        ...readErrors,
      },
    },
  },
  '/files/{id}/thumbnail': {
    get: {
      summary: 'A WebP of at most 320x320 of an image file (404 for other files)',
      security: [{ bearer: [] }, {}],
      parameters: [idParam, ...signed],
      responses: { 200: { description: 'image/webp', content: { 'image/webp': {} } }, 302: { description: 'S3 storage: a presigned URL' }, ...readErrors },
    },
  },
};

const ATTACHMENTS = 'v1.2: privateMessage and messageInGroup take attachments?: up to 10 ids of files the sender uploaded ' +
  '(another\'s, or unknown: NOT_FOUND); with attachments, content may be "". Every message row (send replies, pushes, ' +
  'both histories, editMessage) gains attachments: [File] ([] when none), with fresh signed URLs; a deleted message has none.';

const attachments = { type: 'array', items: fileRef, maxItems: 10 };

/** What the files add to the WebSocket replies' documentation, per message type. */
export const fileRowAdditions: Record<string, object> = {
  privateMessage: { description: ATTACHMENTS, properties: { attachments } },
  messageInGroup: { description: ATTACHMENTS, properties: { attachments } },
  editMessage: { description: ATTACHMENTS, properties: { attachments } },
  getlatestMessageDialog: { description: ATTACHMENTS, items: { properties: { attachments } } },
  getlatestMessageGroup: { description: ATTACHMENTS, items: { properties: { attachments } } },
  getPinned: { description: ATTACHMENTS, items: { properties: { attachments } } },
  listLastMessage: {
    description: 'v1.2 adds attachmentName to every row: the first file\'s name when the newest message has files and no content, else null.',
    items: { properties: { attachmentName: { type: ['string', 'null'] } } },
  },
};

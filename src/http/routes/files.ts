import * as v from 'valibot';
import { buffer } from 'node:stream/consumers';
import type { Services } from '../../services.js';
import type { AuthedRoute, Request, Route } from '../router.js';
import { json, type Reply } from '../respond.js';
import { parseOrThrow } from '../../validate.js';
import { ClientError, ErrorCode } from '../../protocol.js';
import { bearerToken } from '../../auth/authenticate.js';
import type { FileRow } from '../../db/files.js';
import type { FileVariant } from '../../files/signing.js';
import type { ByteRange } from '../../files/storage.js';
import { dispositionOf } from '../../files/service.js';

// 1..255 code points, no path separators or control characters (PROTOCOL.md "Files").
const FileName = v.pipe(
  v.string('name must be a string'),
  v.check((n) => [...n].length >= 1 && [...n].length <= 255, 'name must be 1..255 characters'),
  // eslint-disable-next-line no-control-regex
  v.check((n) => !/[/\\\u0000-\u001f\u007f-\u009f]/.test(n), 'name must not hold /, \\ or control characters'),
);
const UploadQuery = v.object({ name: FileName });

const ID = /^[A-Za-z0-9_-]{22}$/;
const notFound = (): ClientError => new ClientError(ErrorCode.NOT_FOUND, 'File not found');

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range within `size`; null: unsatisfiable; undefined: none (or several: served whole). */
export function parseRange(header: string, size: number): ByteRange | null | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 ? null : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start >= size || end < start ? null : { start, end };
}

export function fileRoutes(s: Services): (Route | AuthedRoute)[] {
  const { fileService } = s;

  /** The file a GET may read: by signature (the URL's), else by token (its reader's), else 401. */
  async function permitted(req: Request, id: string, variant: FileVariant): Promise<FileRow> {
    if (!ID.test(id)) throw notFound();
    const verdict = s.signer.check(id, variant, req.query.get('exp'), req.query.get('sig'));
    if (verdict === 'invalid') throw new ClientError(ErrorCode.FORBIDDEN, 'This file link is invalid or has expired');
    if (verdict === 'valid') return (await s.files.byId(id)) ?? (() => { throw notFound(); })();
    const me = await s.authenticate(bearerToken(req.authorization));
    return (await s.files.readable(id, me.id)) ?? (() => { throw notFound(); })();
  }

  const headersOf = (file: FileRow, variant: FileVariant): [string, string][] => [
    ['Content-Disposition', dispositionOf(file, variant)],
    ['Accept-Ranges', 'bytes'],
  ];
  // Bytes never change under an id: a browser may keep them while its link is valid.
  const cache = `private, max-age=${Math.min(s.config.FILE_URL_TTL, 86_400)}`;

  async function serve(req: Request, variant: FileVariant): Promise<Reply> {
    const id = req.url.split('/')[2] ?? '';
    const file = await permitted(req, id, variant);
    if (variant === 't' && !file.hasThumbnail) throw notFound();
    const range = variant === 'f' ? parseRange(req.range, file.size) : undefined;
    if (range === null) {
      return { status: 416, headers: [['Content-Range', `bytes */${file.size}`]], contentType: 'text/plain', body: '' };
    }
    const contentType = variant === 't' ? 'image/webp' : file.contentType;
    const where = await fileService.open(file, variant, range);
    if ('redirect' in where) return { status: 302, headers: [['Location', where.redirect]], cache: 'no-store' };
    const headers = headersOf(file, variant);
    // A thumbnail is small: read whole, it is answered like any short reply.
    if (variant === 't') return { status: 200, body: await buffer(where.stream), contentType, headers, cache };
    if (range) headers.push(['Content-Range', `bytes ${range.start}-${range.end}/${file.size}`]);
    return {
      status: range ? 206 : 200, contentType, headers, cache,
      stream: { source: where.stream, length: range ? range.end - range.start + 1 : file.size },
    };
  }

  return [
    {
      method: 'post', path: '/files', auth: true, upload: true,
      async handle(req, me) {
        const { name } = parseOrThrow(UploadQuery, { name: req.query.get('name') ?? undefined });
        await s.limits.upload(me.id);
        const file = await fileService.upload(me.id, name, req.upload!, req.contentLength, );
        return json(201, file);
      },
    },
    { method: 'get', path: '/files/:id', handle: (req: Request) => serve(req, 'f') },
    { method: 'get', path: '/files/:id/thumbnail', handle: (req: Request) => serve(req, 't') },
  ];
}

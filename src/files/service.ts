import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Files, FileRow } from '../db/files.js';
import type { FileInfo } from '../../client/src/wire.js';
import type { Logger } from '../log.js';
import type { UploadBody } from '../http/upload.js';
import { ClientError, ErrorCode } from '../protocol.js';
import { PayloadTooLarge } from '../http/body.js';
import type { ByteRange, FileStorage } from './storage.js';
import { NotStored } from './storage.js';
import { contentTypeOf, INLINE_IMAGES, makeThumbnail } from './probe.js';
import type { FileSigner, FileVariant } from './signing.js';

export interface FileLimits { maxBytes: number; quotaBytes: number; maxPixels: number; urlTtlSeconds: number }

const emptyFile = (): ClientError => new ClientError(ErrorCode.VALIDATION, 'The file is empty (1 byte at least)');
const thumbKey = (id: string): string => `${id}.thumb`;

export const quotaExceeded = (): ClientError =>
  new ClientError(ErrorCode.QUOTA_EXCEEDED, 'Upload quota exceeded: delete messages with files, or wait for unsent uploads to expire');

/** `attachment` for all but the inline image types, with the name in both header forms (RFC 6266). */
export function dispositionOf(file: Pick<FileRow, 'name' | 'contentType'>, variant: FileVariant): string {
  const inline = variant === 't' || INLINE_IMAGES.has(file.contentType);
  const name = variant === 't' ? `${file.name}.webp` : file.name;
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Files: an upload streams into storage (hashed on the way), is typed from its first bytes, gets
 * a thumbnail when it is an image that decodes within the pixel cap, and is kept only within the
 * account's quota; a download is the bytes, a range of them, or a presigned storage URL.
 */
export function createFileService(deps: { files: Files; storage: FileStorage; signer: FileSigner; limits: FileLimits; log: Logger }) {
  const { files, storage, signer, limits, log } = deps;

  const forget = (id: string, thumb: boolean): void => {
    void Promise.all([storage.delete(id), thumb ? storage.delete(thumbKey(id)) : undefined])
      .catch((err: unknown) => log.warn({ err, fileId: id }, 'could not delete file bytes'));
  };

  /** The wire shape, with URLs signed until `exp`. */
  const toWire = (f: FileRow, exp = signer.expiry()): FileInfo => ({
    id: f.id, name: f.name, size: f.size, contentType: f.contentType, width: f.width, height: f.height,
    url: signer.url(f.id, 'f', exp), thumbnailUrl: f.hasThumbnail ? signer.url(f.id, 't', exp) : null,
    createdAt: f.createdAt.toISOString(),
  });

  return {
    toWire,
    forget,

    async upload(ownerId: number, name: string, body: UploadBody, contentLength: string): Promise<FileInfo> {
      // Refused before a byte is read when the client says how big it is.
      const announced = contentLength === '' ? undefined : Number(contentLength);
      if (announced === 0) throw emptyFile();
      if (announced !== undefined && announced > limits.maxBytes) throw new PayloadTooLarge();
      if (announced !== undefined && (await files.usedBytes(ownerId)) + announced > limits.quotaBytes) throw quotaExceeded();
      const id = randomBytes(16).toString('base64url');
      await storage.put(id, body.start(limits.maxBytes), 'application/octet-stream');
      let thumb = false;
      try {
        if (body.aborted) throw new Error('upload aborted by the client');
        if (body.size === 0) throw emptyFile();
        const contentType = await contentTypeOf(body.head(), name);
        let image: { width: number; height: number } | undefined;
        if (INLINE_IMAGES.has(contentType)) {
          const made = await makeThumbnail(await storage.read(id), limits.maxPixels);
          if (made) {
            await storage.put(thumbKey(id), Readable.from([made.webp]), 'image/webp');
            thumb = true;
            image = made;
          }
        }
        const row = await files.insertWithinQuota({
          id, ownerId, name, size: body.size, contentType, sha256: body.sha256(),
          width: image?.width ?? null, height: image?.height ?? null, hasThumbnail: thumb,
        }, limits.quotaBytes);
        if (!row) throw quotaExceeded();
        return toWire(row);
      } catch (err) {
        forget(id, thumb);
        throw err;
      }
    },

    /**
     * Where a permitted reader gets the bytes: a presigned storage URL (S3), or a stream of them
     * (the local folder), whole or the asked range.
     */
    async open(file: FileRow, variant: FileVariant, range: ByteRange | undefined): Promise<{ redirect: string } | { stream: Readable }> {
      const key = variant === 't' ? thumbKey(file.id) : file.id;
      const contentType = variant === 't' ? 'image/webp' : file.contentType;
      const url = await storage.presign(key, limits.urlTtlSeconds, { contentType, disposition: dispositionOf(file, variant) });
      if (url) return { redirect: url };
      try {
        return { stream: await storage.read(key, range) };
      } catch (err) {
        if (err instanceof NotStored) throw new ClientError(ErrorCode.NOT_FOUND, 'File not found');
        throw err;
      }
    },
  };
}

export type FileService = ReturnType<typeof createFileService>;

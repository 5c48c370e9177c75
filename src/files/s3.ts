import {
  S3Client, PutObjectCommand, GetObjectCommand, DeleteObjectCommand, CreateMultipartUploadCommand,
  UploadPartCommand, CompleteMultipartUploadCommand, AbortMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { NotStored, type FileStorage } from './storage.js';

export interface S3Settings {
  bucket: string;
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

// S3's smallest part but the last. A body is read a part at a time: an upload holds at most this
// much memory (not its whole size), and the socket is not read while a part is on its way.
const PART_BYTES = 5 * 1024 * 1024;

/**
 * S3-compatible object storage (AWS S3, MinIO, Cloudflare R2, ...) through the AWS SDK. A body is
 * sent as one PutObject when it fits in a part, else as a multipart upload, which S3 shows under
 * its key only once completed (and which is aborted, leaving nothing, when the body fails).
 */
export function createS3Storage(settings: S3Settings): FileStorage {
  const client = new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.accessKeyId && settings.secretAccessKey
      ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
      : undefined,
    // Checksums only where the API requires them: several S3-compatible stores reject the
    // SDK's default trailing CRC32 on uploads.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = settings.bucket;

  /** The body in parts of PART_BYTES (the last one shorter); pulls from the stream only when asked. */
  async function* parts(body: Readable): AsyncGenerator<Buffer> {
    let held: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      held.push(buf);
      size += buf.length;
      while (size >= PART_BYTES) {
        const all = Buffer.concat(held);
        yield all.subarray(0, PART_BYTES);
        held = [all.subarray(PART_BYTES)];
        size = held[0]!.length;
      }
    }
    if (size > 0) yield Buffer.concat(held);
  }

  const multipart = async (key: string, first: Buffer, rest: AsyncGenerator<Buffer>, contentType: string): Promise<void> => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: key, ContentType: contentType }));
    try {
      const done: { ETag: string | undefined; PartNumber: number }[] = [];
      let part: Buffer | undefined = first;
      for (let n = 1; part; n++) {
        const { ETag } = await client.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: n, Body: part }));
        done.push({ ETag, PartNumber: n });
        const next = await rest.next();
        part = next.done ? undefined : next.value;
      }
      await client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }));
    } catch (err) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId })).catch(() => undefined);
      throw err;
    }
  };

  return {
    kind: 's3',
    async put(key, body, contentType) {
      const all = parts(body);
      const first = await all.next();
      const second = first.done ? first : await all.next();
      if (second.done) {
        await client.send(new PutObjectCommand({ Bucket, Key: key, Body: first.value ?? Buffer.alloc(0), ContentType: contentType }));
        return;
      }
      const rest = (async function* () {
        yield second.value;
        yield* all;
      })();
      await multipart(key, first.value as Buffer, rest, contentType);
    },
    async read(key, range) {
      try {
        const out = await client.send(new GetObjectCommand({
          Bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }));
        return out.Body as Readable;
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === 'NoSuchKey' || name === 'NotFound') throw new NotStored(key);
        throw err;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
    async presign(key, ttlSeconds, headers) {
      return getSignedUrl(client, new GetObjectCommand({
        Bucket, Key: key, ResponseContentType: headers.contentType, ResponseContentDisposition: headers.disposition,
      }), { expiresIn: ttlSeconds });
    },
    close() {
      client.destroy();
    },
  };
}

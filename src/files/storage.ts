import type { Readable } from 'node:stream';

/** A byte range, both ends included (as in an HTTP Range header). */
export interface ByteRange { start: number; end: number }

/**
 * Where file bytes live: a local folder (local.ts) or S3-compatible object storage (s3.ts). One
 * contract (test/unit-files-storage.test.ts runs the same suite against both). Keys are made by
 * the server (file ids, never names), so drivers need not sanitise them.
 */
export interface FileStorage {
  readonly kind: 'local' | 's3';
  /**
   * Stores the stream under `key`, reading it only as fast as the storage takes it (a slow disk
   * or S3 slows the reading, which pauses the socket upstream). Nothing is visible under `key`
   * until the whole stream is stored; a stream that fails leaves nothing behind.
   */
  put(key: string, body: Readable, contentType: string): Promise<void>;
  /** The bytes (or a range of them); a missing key rejects with a NotStored error. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** Deleting a missing key is no error. */
  delete(key: string): Promise<void>;
  /**
   * A short-lived URL the client can fetch the bytes from directly (S3's presigned GET), or
   * undefined where the server serves them itself (local folder).
   */
  presign(key: string, ttlSeconds: number, headers: { contentType: string; disposition: string }): Promise<string | undefined>;
  close(): void;
}

/** Thrown by `read` for a key that holds nothing. */
export class NotStored extends Error {
  constructor(key: string) {
    super(`nothing stored under ${key}`);
  }
}

import type { HttpResponse } from 'uWebSockets.js';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { PayloadTooLarge } from './body.js';

// Bytes queued between the socket and storage before the socket is paused.
const HIGH_WATER = 256 * 1024;
// The first bytes, kept for content-type detection (file-type reads at most this many).
const HEAD_BYTES = 4100;

/**
 * A request body as a stream, for uploads: uWS hands the body over in chunks, which go on as they
 * come; when storage falls behind (the stream's buffer is full) the socket is paused
 * (`res.pause()`) and resumed when storage asks for more, so an upload holds about HIGH_WATER of
 * memory whatever its size. Registered in the synchronous part of the handler (uWS delivers the
 * body only to an onData set there) and paused at once: the route authenticates first, then
 * calls `start`. Bytes past `limit` fail the stream with PayloadTooLarge (413).
 */
export class UploadBody {
  readonly stream: Readable;
  private readonly hash = createHash('sha256');
  private readonly headChunks: Buffer[] = [];
  private headSize = 0;
  private received = 0;
  private paused = true;
  private started = false;
  private ended = false;
  private wasAborted = false;
  private detached = false;
  private limit = Number.POSITIVE_INFINITY;

  constructor(private readonly res: HttpResponse) {
    this.stream = new Readable({
      highWaterMark: HIGH_WATER,
      read: () => {
        if (this.started) this.flow(true);
      },
    });
    res.onData((chunk, isLast) => this.onChunk(chunk, isLast));
    res.pause();
  }

  /** Lets the bytes flow, failing the stream past `limit` bytes. */
  start(limit: number): Readable {
    this.limit = limit;
    this.started = true;
    if (this.received > limit) this.stream.destroy(new PayloadTooLarge());
    else this.flow(true);
    return this.stream;
  }

  /**
   * Pauses or resumes reading the socket. Once the body is complete the socket must read again
   * whatever the stream's state: a body that all came before `start` (while paused) would
   * otherwise leave the keep-alive connection deaf to its next request.
   */
  private flow(on: boolean): void {
    if (this.wasAborted || this.detached || on !== this.paused) return;
    this.paused = !on;
    if (on) this.res.resume();
    else this.res.pause();
  }

  /** The answer is sent: uWS frees `res`, which must not be touched again. */
  detach(): void {
    this.detached = true;
  }

  /** The client went away: whatever reads the stream fails, and storage drops what it had. */
  abort(): void {
    this.ended = true;
    this.wasAborted = true;
    this.stream.destroy(new Error('upload aborted by the client'));
  }

  get size(): number { return this.received; }
  /** The client went away before the answer. */
  get aborted(): boolean { return this.wasAborted; }
  /** The SHA-256 of every byte received (read once the stream has ended). */
  sha256(): string { return this.hash.digest('hex'); }
  /** The first bytes, for content-type detection. */
  head(): Buffer { return Buffer.concat(this.headChunks); }

  private onChunk(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.ended || this.stream.destroyed) {
      if (isLast) this.flow(true);
      return;
    }
    // uWS reuses the chunk's memory after this callback: copy it.
    const copy = Buffer.from(new Uint8Array(chunk));
    this.received += copy.length;
    if (this.started && this.received > this.limit) {
      this.ended = true;
      this.stream.destroy(new PayloadTooLarge());
      this.flow(true);
      return;
    }
    this.hash.update(copy);
    if (this.headSize < HEAD_BYTES) {
      this.headChunks.push(copy.subarray(0, HEAD_BYTES - this.headSize));
      this.headSize += Math.min(copy.length, HEAD_BYTES - this.headSize);
    }
    if (isLast) {
      this.ended = true;
      if (copy.length > 0) this.stream.push(copy);
      this.stream.push(null);
      this.flow(true);
    } else if (!this.stream.push(copy)) {
      this.flow(false);
    }
  }
}

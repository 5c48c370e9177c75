import type { HttpResponse } from 'uWebSockets.js';
import { ClientError, ErrorCode } from '../protocol.js';

/** A body over the limit: answered 413, and the connection is closed after it. */
export class PayloadTooLarge extends ClientError {
  constructor() {
    super(ErrorCode.PAYLOAD_TOO_LARGE, 'Request body is too large');
  }
}

/**
 * Collects a request body, refusing it as soon as it passes `limit` bytes, whether the client
 * announced the size (Content-Length) or streams more than it announced.
 */
export function readBody(res: HttpResponse, contentLength: string, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (contentLength !== '' && Number(contentLength) > limit) {
      reject(new PayloadTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > limit) {
        failed = true;
        reject(new PayloadTooLarge());
        return;
      }
      // uWS reuses the chunk's memory after this callback: copy it.
      chunks.push(Buffer.from(Buffer.from(chunk)));
      if (isLast) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
  });
}

/** A body that is not JSON is a BAD_REQUEST; an empty one counts as `{}` for routes without params. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ClientError(ErrorCode.BAD_REQUEST, 'Request body is not valid JSON');
  }
}

import { RelayError } from './errors.js';
import type { ErrorCode, FileInfo, HttpErrorBody } from './wire.js';

/** What `uploadFile` takes: a browser File/Blob, bytes (a Node Buffer is one), or a stream of bytes (a Node Readable is one). */
export type UploadData = Blob | ArrayBuffer | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface UploadOptions {
  /** Bytes sent so far, and the total when known. */
  onProgress?: (progress: { loaded: number; total: number | undefined }) => void;
  /** Aborting cancels the upload (it rejects with ABORTED; the server keeps nothing of it). */
  signal?: AbortSignal;
}

interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
  getResponseHeader(name: string): string | null;
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

const sizeOf = (data: UploadData): number | undefined =>
  typeof Blob !== 'undefined' && data instanceof Blob ? data.size
    : data instanceof ArrayBuffer ? data.byteLength
      : data instanceof Uint8Array ? data.byteLength : undefined;

/** The answer of POST /files as the file, or its error as a RelayError. */
function settle(status: number, text: string, retryAfter: string | null): FileInfo {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RelayError('NETWORK', `POST /files: answer ${status} is not JSON`, '/files', status);
  }
  if (status === 201) return body as FileInfo;
  const err = body as Partial<HttpErrorBody>;
  throw new RelayError((err.code ?? 'INTERNAL') as ErrorCode, err.message ?? `POST /files answered ${status}`, '/files', status,
    retryAfter ? Number(retryAfter) * 1000 : undefined);
}

const aborted = (): RelayError => new RelayError('ABORTED', 'The upload was cancelled', '/files');

/**
 * POST /files: in a browser through XMLHttpRequest (the one API that reports upload progress),
 * elsewhere through fetch with a streamed body, counted as it is read.
 */
export async function uploadFile(baseUrl: string, token: string, data: UploadData, name: string, opts: UploadOptions = {}): Promise<FileInfo> {
  const url = `${baseUrl}/files?name=${encodeURIComponent(name)}`;
  const total = sizeOf(data);
  if (opts.signal?.aborted) throw aborted();
  const XHR = (globalThis as { XMLHttpRequest?: new () => XhrLike }).XMLHttpRequest;
  if (XHR && total !== undefined) {
    return new Promise<FileInfo>((resolve, reject) => {
      const xhr = new XHR();
      xhr.open('POST', url);
      xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => opts.onProgress?.({ loaded: e.loaded, total });
      xhr.onload = () => {
        try { resolve(settle(xhr.status, xhr.responseText, xhr.getResponseHeader('Retry-After'))); } catch (err) { reject(err); }
      };
      xhr.onerror = () => reject(new RelayError('NETWORK', 'POST /files: the upload failed', '/files'));
      xhr.onabort = () => reject(aborted());
      opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(data);
    });
  }

  let loaded = 0;
  const counted = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for await (const chunk of chunksOf(data)) {
          if (opts.signal?.aborted) return;
          controller.enqueue(chunk);
          loaded += chunk.byteLength;
          opts.onProgress?.({ loaded, total });
        }
        controller.close();
      } catch (err) {
        controller.error(err);
      }
    },
  }, { highWaterMark: 4 });
  try {
    const res = await fetch(url, {
      method: 'POST', body: counted, signal: opts.signal,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      // A streamed request body (fetch's rule for ReadableStream bodies).
      duplex: 'half',
    } as RequestInit);
    return settle(res.status, await res.text(), res.headers.get('retry-after'));
  } catch (err) {
    if (opts.signal?.aborted) throw aborted();
    if (err instanceof RelayError) throw err;
    throw new RelayError('NETWORK', `POST /files: ${err instanceof Error ? err.message : String(err)}`, '/files');
  }
}

const SLICE = 64 * 1024;

async function* chunksOf(data: UploadData): AsyncIterable<Uint8Array> {
  if (typeof Blob !== 'undefined' && data instanceof Blob) data = new Uint8Array(await data.arrayBuffer());
  if (data instanceof ArrayBuffer) data = new Uint8Array(data);
  if (data instanceof Uint8Array) {
    for (let i = 0; i < data.byteLength; i += SLICE) yield data.subarray(i, i + SLICE);
    return;
  }
  if (typeof (data as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (data as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  }
  yield* data as AsyncIterable<Uint8Array>;
}

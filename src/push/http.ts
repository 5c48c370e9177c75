/*
 * The one way the push code reaches the network: a POST that follows no redirect (a 3xx is an
 * answer like any other, never a second request to wherever it points), gives up after
 * `timeoutMs` (a service that never answers costs one slot for that long, never a send), and
 * reads at most `maxBodyBytes` of the answer (then cancels the stream): a service cannot make the
 * server buffer or wait for an endless body.
 */

export interface PostAnswer {
  status: number;
  retryAfter: string | null;
  /** The first bytes of the body (at most the limit), for the log. */
  body: string;
}

export async function post(
  url: string,
  { headers, body, timeoutMs, maxBodyBytes = 1024 }: { headers: Record<string, string>; body: Uint8Array | string; timeoutMs: number; maxBodyBytes?: number },
): Promise<PostAnswer> {
  const signal = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, { method: 'POST', headers, body: body as BodyInit, redirect: 'manual', signal });
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  if (reader) {
    try {
      while (size < maxBodyBytes) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value.subarray(0, maxBodyBytes - size));
        size += Math.min(value.byteLength, maxBodyBytes - size);
      }
    } finally {
      // Stops reading (and lets the connection go) whatever is left.
      await reader.cancel().catch(() => undefined);
    }
  }
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: Buffer.concat(chunks).toString('utf8') };
}

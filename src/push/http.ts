import http from 'node:http';
import https from 'node:https';

/*
 * The one way the push code reaches the network: a POST that follows no redirect (a 3xx is an
 * answer like any other, never a second request to wherever it points), gives up after
 * `timeoutMs` (a service that never answers costs one slot for that long, never a send), and
 * reads at most `maxBodyBytes` of the answer, then destroys the connection: a service cannot
 * make the server buffer, or wait for, an endless body. node:http rather than fetch: fetch
 * cancelling a body did not always close its connection.
 */

export interface PostAnswer {
  status: number;
  retryAfter: string | null;
  /** The first bytes of the body (at most the limit), for the log. */
  body: string;
}

// Connections to a push service are kept for the next notification.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

export function post(
  url: string,
  { headers, body, timeoutMs, maxBodyBytes = 1024 }: { headers: Record<string, string>; body: Uint8Array | string; timeoutMs: number; maxBodyBytes?: number },
): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const protocol = target.protocol === 'https:' ? 'https:' : 'http:';
    const send = protocol === 'https:' ? https.request : http.request;
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    const req = send(target, {
      method: 'POST', agent: agents[protocol],
      headers: { ...headers, 'content-length': String(payload.byteLength) },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.once('error', (err) => { clearTimeout(timer); reject(err); });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        clearTimeout(timer);
        const retry = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, retryAfter: typeof retry === 'string' ? retry : null, body: Buffer.concat(chunks).toString('utf8') });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk.subarray(0, maxBodyBytes - size));
        size += chunk.byteLength;
        if (size >= maxBodyBytes) {
          // Enough: the rest is never read, and the connection goes with it.
          res.removeAllListeners('data');
          res.removeAllListeners('end');
          req.destroy();
          done();
        }
      });
      res.once('end', done);
      res.once('error', () => undefined);
    });
    req.end(payload);
  });
}

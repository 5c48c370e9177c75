// A push service of the tests' own (RFC 8030 as the server sees one): a local HTTP server that
// checks each request's VAPID header (RFC 8292: an ES256 JWT signed with the server's key, aud =
// the endpoint's origin) and decrypts its payload (RFC 8291, aes128gcm) with the subscription keys
// the test made, and answers as each endpoint is told to (201, 500, 429, 410, a redirect, an
// endless body, or never). Also a webhook receiver that checks X-Relay-Signature.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createECDH, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { importJWK, jwtVerify } from 'jose';

/** What one POST to an endpoint brought, once checked and decrypted. */
export interface Received {
  endpoint: string;
  at: number;
  headers: Record<string, string | string[] | undefined>;
  payload: any;
  /** null when the VAPID header was valid; else why not. */
  vapidError: string | null;
}

export type Answer =
  | { status: number; retryAfter?: string; body?: string }
  | { redirectTo: string }
  | { endlessBody: true }
  | { hang: true };

/** A browser's side of a subscription: the keys the payload is encrypted to. */
export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** Every POST that reached this endpoint (the refused ones too). */
  received: Received[];
  /** Answers to give, in order; when used up, `then` (default 201). */
  script: Answer[];
  then: Answer;
  /** Requests that hung and were given up by the server (the socket closed). */
  abandoned: number;
  /** Endless bodies the server stopped reading (the socket closed mid-body). */
  cut: number;
}

const b64u = (b: Buffer): string => b.toString('base64url');

/** RFC 8291 §3.4 and RFC 8188: the one record's plaintext, padding removed. */
function decrypt(body: Buffer, uaPrivate: ReturnType<typeof createECDH>, uaPublic: Buffer, authSecret: Buffer): string {
  const salt = body.subarray(0, 16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const ecdhSecret = uaPrivate.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('no last-record delimiter');
  return padded.subarray(0, end).toString('utf8');
}

async function checkVapid(header: string | undefined, publicKey: string, origin: string): Promise<string | null> {
  const m = /^vapid t=([\w.-]+), k=([\w-]+)$/.exec(header ?? '');
  if (!m) return `no vapid Authorization header: ${header}`;
  if (m[2] !== publicKey) return 'k is not the server\'s VAPID key';
  const point = Buffer.from(publicKey, 'base64url');
  const key = await importJWK({ kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33, 65)) }, 'ES256');
  try {
    const { payload, protectedHeader } = await jwtVerify(m[1]!, key, { audience: origin, algorithms: ['ES256'] });
    if (protectedHeader.alg !== 'ES256') return 'not ES256';
    if (typeof payload.exp !== 'number' || payload.exp > Date.now() / 1000 + 86_400) return 'exp more than 24 h away';
    if (typeof payload.sub !== 'string') return 'no sub';
  } catch (err) {
    return `JWT refused: ${(err as Error).message}`;
  }
  return null;
}

export interface PushService {
  origin: string;
  /** The server's VAPID key, which every request must be signed with (set from GET /push/key). */
  publicKey: string;
  subscribe(name?: string): TestSubscription;
  /** Every webhook POST: body parsed, signature checked. */
  hooks: { body: any; signatureOk: boolean; at: number }[];
  /** Paths hit that are no endpoint (a redirect's target must never be). */
  strays: string[];
  close(): Promise<void>;
}

export async function startPushService(webhookSecret = ''): Promise<PushService> {
  const subs = new Map<string, { sub: TestSubscription; ecdh: ReturnType<typeof createECDH>; pub: Buffer; auth: Buffer }>();
  const hooks: PushService['hooks'] = [];
  const strays: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  let origin = '';

  const readAll = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };

  const answer = (res: ServerResponse, a: Answer, s: TestSubscription): void => {
    if ('hang' in a) {
      res.on('close', () => { s.abandoned++; });
      return;
    }
    if ('redirectTo' in a) {
      res.writeHead(307, { location: a.redirectTo }).end();
      return;
    }
    if ('endlessBody' in a) {
      res.writeHead(201, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 120);
      const timer = setInterval(() => res.write(chunk), 5);
      res.on('close', () => { clearInterval(timer); s.cut++; });
      return;
    }
    const headers: Record<string, string> = {};
    if (a.retryAfter !== undefined) headers['retry-after'] = a.retryAfter;
    res.writeHead(a.status, headers).end(a.body ?? '');
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const path = req.url ?? '';
      if (path === '/hook') {
        const sig = String(req.headers['x-relay-signature'] ?? '');
        const want = `sha256=${createHmac('sha256', webhookSecret).update(body).digest('hex')}`;
        const signatureOk = sig.length === want.length && timingSafeEqual(Buffer.from(sig), Buffer.from(want));
        hooks.push({ body: JSON.parse(body.toString('utf8')), signatureOk, at: Date.now() });
        res.writeHead(signatureOk ? 204 : 401).end();
        return;
      }
      const entry = subs.get(path);
      if (!entry || req.method !== 'POST') {
        strays.push(path);
        res.writeHead(404).end();
        return;
      }
      const { sub } = entry;
      let payload: any = null;
      let vapidError = await checkVapid(req.headers.authorization, service.publicKey, origin);
      try {
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error('not aes128gcm');
        payload = JSON.parse(decrypt(body, entry.ecdh, entry.pub, entry.auth));
      } catch (err) {
        vapidError ??= `payload: ${(err as Error).message}`;
      }
      sub.received.push({ endpoint: sub.endpoint, at: Date.now(), headers: req.headers, payload, vapidError });
      answer(res, sub.script.shift() ?? sub.then, sub);
    })();
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const service: PushService = {
    origin,
    publicKey: '',
    hooks,
    strays,
    subscribe(name = randomBytes(6).toString('hex')) {
      const ecdh = createECDH('prime256v1');
      const pub = ecdh.generateKeys();
      const auth = randomBytes(16);
      const path = `/push/${name}`;
      const sub: TestSubscription = {
        endpoint: origin + path, keys: { p256dh: b64u(pub), auth: b64u(auth) },
        received: [], script: [], then: { status: 201 }, abandoned: 0, cut: 0,
      };
      subs.set(path, { sub, ecdh, pub, auth });
      return sub;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  return service;
}

import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export interface HttpAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A JSON HTTP call as a client makes it; `raw` sends a body as-is. */
export async function http<T = any>(
  base: string, method: string, path: string,
  opts: { body?: unknown; raw?: string | Uint8Array; token?: string; headers?: Record<string, string> } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Uint8Array | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body: body as BodyInit | undefined });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export interface Account {
  id: number;
  email: string;
  password: string;
  firstName: string;
  token: string;
}

/** Signs up a fresh account with a unique email. */
export async function signUp(base: string, firstName = 'User', password = 'password123'): Promise<Account> {
  const email = `${firstName.toLowerCase()}.${randomBytes(5).toString('hex')}@example.com`;
  const res = await http(base, 'POST', '/auth/sign-up', { body: { email, password, firstName } });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, email, password, firstName, token: res.body.token };
}

export type Frame = Record<string, any>;

const MARKER = '__test_marker__';
const isMarkerReply = (f: Frame): boolean => typeof f.requestId === 'string' && f.requestId.startsWith(MARKER);

/** A WebSocket client that keeps every frame, matches replies by requestId and waits for pushes. */
export class Client {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  private nextId = 1;
  private markers = 1;
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const frame = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString() : data.toString()) as Frame;
      // Markers (see `marker`) are the test's own bookkeeping: never counted among the frames.
      if (!isMarkerReply(frame)) this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => (w.match(frame) ? (w.resolve(frame), false) : true));
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => { this.closeCode = code; resolve(code); }));
  }

  /**
   * Opens a connection as a client does. uWS 20.30 may end a socket right after its 101
   * (uNetworking/uWebSockets#1928, README "A known uWS bug"): the client sees 1006 at once and
   * reconnects, as the SDK does; so does this, once.
   */
  static async connect(url: string, token: string, how: 'header' | 'protocol' = 'header'): Promise<Client> {
    const c = await Client.open(url, token, how);
    const endedAtOnce = await Promise.race([
      c.closed.then((code) => code === 1006),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 10)),
    ]);
    return endedAtOnce ? Client.open(url, token, how) : c;
  }

  private static open(url: string, token: string, how: 'header' | 'protocol'): Promise<Client> {
    const ws = how === 'header'
      ? new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
      : new WebSocket(url, ['auth', token]);
    return new Promise((resolve, reject) => {
      const client = new Client(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  /** Sends a request and resolves with the reply carrying its requestId. */
  request(type: string, params?: unknown, timeoutMs = 5000): Promise<Frame> {
    const requestId = this.nextId++;
    this.ws.send(JSON.stringify({ type, params, requestId }));
    return this.wait((f) => f.requestId === requestId, timeoutMs, `reply to ${type} #${requestId}`);
  }

  /**
   * A round trip on this connection that proves absence: the server answers it (an unknown type,
   * refused without touching the database) after everything it had already written to this
   * socket. A push caused by a request answered before, on any connection of the same node, was
   * written before this marker was read; once the marker's answer is in, it has arrived or never
   * will. Marker answers are not kept in `frames`.
   */
  async marker(timeoutMs = 5000): Promise<void> {
    const requestId = `${MARKER}${this.markers++}`;
    this.ws.send(JSON.stringify({ type: MARKER, requestId }));
    await this.wait((f) => f.requestId === requestId, timeoutMs, 'the marker');
  }

  /** Sends raw text or bytes, for abuse cases. */
  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** The next frame (already received or still to come) matching `match`. */
  wait(match: (f: Frame) => boolean, timeoutMs = 5000, what = 'frame'): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({ match, resolve: (f) => { clearTimeout(timer); resolve(f); } });
    });
  }

  /** Pushes (frames without requestId) of a type received so far. */
  pushes(type?: string): Frame[] {
    return this.frames.filter((f) => f.requestId === undefined && f.success === true && (type === undefined || f.type === type));
  }

  /** Waits for a push of `type` whose data matches. */
  push(type: string, match: (data: any) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    return this.wait((f) => f.requestId === undefined && f.type === type && f.success === true && match(f.params.data), timeoutMs, `${type} push`);
  }

  close(): Promise<number> {
    this.ws.close();
    return this.closed;
  }
}

/**
 * The sockets one test file opens, dropped together in its `after` whatever state the tests left
 * them in (a node killed, a socket already closed by the server).
 */
export function socketPool() {
  const open: Client[] = [];
  return {
    async connect(url: string, token: string, how?: 'header' | 'protocol'): Promise<Client> {
      const c = await Client.connect(url, token, how);
      open.push(c);
      return c;
    },
    terminateAll(): void {
      for (const c of open) c.ws.terminate();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

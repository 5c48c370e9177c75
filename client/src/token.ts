/** What the SDK reads from a Relay access token: who it is for, when it was issued and expires (s since epoch). No verification: the server does that. */
export interface TokenInfo { userId: number; exp: number | undefined; iat: number | undefined }

function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=');
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export function readToken(token: string): TokenInfo {
  const payload = token.split('.')[1];
  if (!payload) throw new TypeError('not a JWT');
  const claims = JSON.parse(base64UrlDecode(payload)) as { id?: unknown; sub?: unknown; exp?: unknown; iat?: unknown };
  const userId = typeof claims.id === 'number' ? claims.id : Number(claims.sub);
  if (!Number.isInteger(userId) || userId < 1) throw new TypeError('the token names no user id');
  return {
    userId,
    exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    iat: typeof claims.iat === 'number' ? claims.iat : undefined,
  };
}

/** True when the token is expired, or will be within `skewMs`. */
export const isExpired = (info: TokenInfo, skewMs = 2000, now = Date.now()): boolean =>
  info.exp !== undefined && info.exp * 1000 <= now + skewMs;

/** Asks the app for a fresh token; given the current one (still valid when asked ahead of expiry). */
export type GetToken = (current: string) => string | Promise<string>;

/** Node's setTimeout takes at most 2^31-1 ms (about 24.8 days); a longer delay fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * How long before `exp` a token is renewed: a fifth of its lifetime (from `iat`), at least 1 s
 * and at most a minute, so that a short-lived token is still valid when `getToken` refreshes it.
 */
export function renewAheadMs(info: TokenInfo): number {
  const lifetimeMs = info.exp !== undefined && info.iat !== undefined ? (info.exp - info.iat) * 1000 : 300_000;
  return Math.min(60_000, Math.max(1000, lifetimeMs / 5));
}

/**
 * The client's current token and its renewal: `getToken` is asked a margin before the token
 * expires (a refresh needs a token that is still valid: asked after expiry, it would fail), and
 * again whenever the client needs one at once (close 4001). One call at a time.
 */
export class TokenKeeper {
  private token: string;
  private _info: TokenInfo;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private asking: Promise<string> | undefined;
  private stopped = false;

  constructor(
    token: string,
    private readonly getToken: GetToken | undefined,
    /** A renewal ahead of expiry failed; the token is still the old one. */
    private readonly onRenewFailed: (err: unknown) => void,
  ) {
    this.token = token;
    this._info = readToken(token);
  }

  get current(): string { return this.token; }
  get info(): TokenInfo { return this._info; }
  get canRenew(): boolean { return this.getToken !== undefined; }

  /** A fresh token from `getToken`, made current; concurrent callers share one call. */
  renew(): Promise<string> {
    if (!this.getToken) return Promise.reject(new Error('no getToken'));
    const getToken = this.getToken;
    this.asking ??= (async () => {
      try {
        const token = await getToken(this.token);
        const info = readToken(token);
        if (info.userId !== this._info.userId) throw new Error(`getToken gave a token of user ${info.userId}, not ${this._info.userId}`);
        this.token = token;
        this._info = info;
        this.schedule();
        return token;
      } finally {
        this.asking = undefined;
      }
    })();
    return this.asking;
  }

  /** Arms the renewal ahead of expiry (no-op without `getToken` or `exp`). */
  schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || !this.getToken || this._info.exp === undefined) return;
    const due = this._info.exp * 1000 - renewAheadMs(this._info);
    const delay = Math.max(0, due - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (delay > MAX_TIMER_MS) return this.schedule();
      this.renew().catch((err: unknown) => { if (!this.stopped) this.onRenewFailed(err); });
    }, Math.min(delay, MAX_TIMER_MS));
    // A pending renewal alone does not keep a Node process alive (the open socket does).
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

import { RelayError } from './errors.js';
import type {
  ErrorCode, HttpErrorBody, LoginAnswer, LoginBody, PasswordChange, ProfilePatch, PushSubscriptionBody, SignUpAnswer, SignUpBody,
  TokenAnswer, User, UserSummary,
} from './wire.js';

export type FetchLike = (input: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{
  status: number; headers: { get(name: string): string | null }; text(): Promise<string>;
}>;

/**
 * The HTTP side of Relay: sign-up, login, token refresh, profile and user search. Every method
 * resolves with the answer's body, or rejects with a RelayError carrying the HTTP `code` and status.
 */
export class RelayHttp {
  private readonly base: string;
  private readonly fetch: FetchLike;

  /** `baseUrl`: e.g. `http://localhost:3000` (or `''` in a page served by Relay itself). */
  constructor(baseUrl: string, opts: { fetch?: FetchLike } = {}) {
    this.base = baseUrl.replace(/\/+$/, '');
    const f = opts.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
    if (!f) throw new TypeError('no fetch: pass one in the options');
    this.fetch = f.bind(globalThis) as FetchLike;
  }

  signUp(body: SignUpBody): Promise<SignUpAnswer> { return this.call('POST', '/auth/sign-up', undefined, body); }
  login(body: LoginBody): Promise<LoginAnswer> { return this.call('POST', '/auth/login', undefined, body); }
  /** A new token for the same account, with a new expiry; needs a token that is still valid. */
  refresh(token: string): Promise<TokenAnswer> { return this.call('POST', '/auth/refresh', token); }
  getProfile(token: string): Promise<User> { return this.call('GET', '/profile', token); }
  updateProfile(token: string, patch: ProfilePatch): Promise<User> { return this.call('PATCH', '/profile', token, patch); }
  /** Every token issued before stops working (sockets close with 4003); use the one returned. */
  changePassword(token: string, body: PasswordChange): Promise<TokenAnswer> { return this.call('PATCH', '/profile/password', token, body); }
  deleteAccount(token: string): Promise<{ message: string }> { return this.call('DELETE', '/profile', token); }
  /** Active accounts whose name starts with `search`, or whose email is exactly it. */
  searchUsers(token: string, q: { search?: string; limit?: number; page?: number } = {}): Promise<UserSummary[]> {
    const qs = new URLSearchParams();
    if (q.search !== undefined) qs.set('search', q.search);
    if (q.limit !== undefined) qs.set('limit', String(q.limit));
    if (q.page !== undefined) qs.set('page', String(q.page));
    return this.call('GET', `/users?${qs.toString()}`, token);
  }

  /** v1.2: the VAPID application server key, for `pushManager.subscribe({ applicationServerKey })`. */
  async getPushKey(): Promise<string> { return (await this.call<{ publicKey: string }>('GET', '/push/key')).publicKey; }
  /**
   * v1.2: notifications of this account go to this browser subscription (pass
   * `PushSubscription.toJSON()`) while it has no open connection. The same endpoint again updates it;
   * an account keeps at most 10 (the oldest goes).
   */
  subscribePush(token: string, subscription: PushSubscriptionBody): Promise<{ id: number }> {
    return this.call('POST', '/push/subscriptions', token, { endpoint: subscription.endpoint, keys: subscription.keys });
  }
  async unsubscribePush(token: string, endpoint: string): Promise<void> { await this.call('DELETE', '/push/subscriptions', token, { endpoint }); }

  private async call<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Awaited<ReturnType<FetchLike>>;
    let text: string;
    try {
      res = await this.fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      text = await res.text();
    } catch (err) {
      throw new RelayError('NETWORK', `${method} ${path}: ${err instanceof Error ? err.message : String(err)}`, path);
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      throw new RelayError('NETWORK', `${method} ${path}: answer ${res.status} is not JSON`, path, res.status);
    }
    if (res.status >= 200 && res.status < 300) return parsed as T;
    const err = parsed as Partial<HttpErrorBody> | null;
    const retry = res.headers.get('retry-after');
    throw new RelayError(
      (err?.code ?? 'INTERNAL') as ErrorCode,
      err?.message ?? `${method} ${path} answered ${res.status}`,
      path, res.status, retry ? Number(retry) * 1000 : undefined,
    );
  }
}

import { readToken, type RelayHttp, type User } from 'relay-client';

export interface Session { token: string; user: User }

const KEY = 'relay.session';

export function loadSession(): Session | undefined {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Session;
    const exp = readToken(s.token).exp;
    return exp !== undefined && exp * 1000 < Date.now() ? undefined : s;
  } catch {
    return undefined;
  }
}

export const saveSession = (s: Session): void => localStorage.setItem(KEY, JSON.stringify(s));
export const clearSession = (): void => localStorage.removeItem(KEY);

/**
 * Keeps the token fresh: refreshes it a minute before it expires (refresh needs a valid token),
 * and hands the current one to the SDK when it asks (getToken, after a 4001).
 */
export class TokenKeeper {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private session: Session, private readonly http: RelayHttp, private readonly onLost: () => void) {
    this.schedule();
  }

  get token(): string { return this.session.token; }

  async getToken(): Promise<string> {
    const exp = readToken(this.session.token).exp;
    if (exp === undefined || exp * 1000 > Date.now() + 5000) return this.session.token;
    await this.refresh();
    return this.session.token;
  }

  stop(): void { clearTimeout(this.timer); }

  private schedule(): void {
    const exp = readToken(this.session.token).exp;
    if (exp === undefined) return;
    const inMs = Math.max(1000, exp * 1000 - Date.now() - 60_000);
    // setTimeout holds 32-bit delays only; a long-lived token is checked again later.
    this.timer = setTimeout(() => { void this.refresh().catch(() => undefined); }, Math.min(inMs, 2 ** 31 - 1));
  }

  private async refresh(): Promise<void> {
    try {
      const { token } = await this.http.refresh(this.session.token);
      this.session = { ...this.session, token };
      saveSession(this.session);
      this.schedule();
    } catch (err) {
      this.onLost();
      throw err;
    }
  }
}

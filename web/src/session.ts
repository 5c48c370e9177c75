import { readToken, type User } from 'relay-client';

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

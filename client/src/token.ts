/** What the SDK reads from a Relay access token: who it is for and when it expires. No verification: the server does that. */
export interface TokenInfo { userId: number; exp: number | undefined }

function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=');
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export function readToken(token: string): TokenInfo {
  const payload = token.split('.')[1];
  if (!payload) throw new TypeError('not a JWT');
  const claims = JSON.parse(base64UrlDecode(payload)) as { id?: unknown; sub?: unknown; exp?: unknown };
  const userId = typeof claims.id === 'number' ? claims.id : Number(claims.sub);
  if (!Number.isInteger(userId) || userId < 1) throw new TypeError('the token names no user id');
  return { userId, exp: typeof claims.exp === 'number' ? claims.exp : undefined };
}

/** True when the token is expired, or will be within `skewMs`. */
export const isExpired = (info: TokenInfo, skewMs = 2000, now = Date.now()): boolean =>
  info.exp !== undefined && info.exp * 1000 <= now + skewMs;

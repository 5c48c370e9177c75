import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';

/** What a Relay access token says about its holder. */
export interface TokenClaims {
  id: number;
  email: string;
  firstName: string;
  /** users.token_version when issued; a password change or deletion bumps it. */
  tv: number;
}

export interface VerifiedToken extends TokenClaims {
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export type TokenFailure = 'expired' | 'invalid';

export class TokenError extends Error {
  constructor(readonly reason: TokenFailure) {
    super(reason === 'expired' ? 'Token expired' : 'Invalid token');
  }
}

export interface TokenService {
  issue(claims: TokenClaims): Promise<string>;
  /** Checks signature, algorithm and expiry; revocation is the caller's job (it needs the database). */
  verify(token: string): Promise<VerifiedToken>;
}

export function createTokenService(secret: string, ttlSeconds: number): TokenService {
  const key = new TextEncoder().encode(secret);
  // Given raw bytes, jose imports a WebCrypto key on every verification: about half of its cost,
  // paid on each WebSocket handshake. Imported once instead, on first use.
  let verifyKey: Promise<CryptoKey> | undefined;
  const importVerifyKey = (): Promise<CryptoKey> =>
    (verifyKey ??= crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']));
  return {
    issue(claims) {
      return new SignJWT({ id: claims.id, email: claims.email, firstName: claims.firstName, tv: claims.tv })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(String(claims.id))
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(key);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, await importVerifyKey(), { algorithms: ['HS256'] });
        const { id, email, firstName, tv, exp, sub } = payload;
        if (
          typeof id !== 'number' || !Number.isSafeInteger(id) || sub !== String(id) ||
          typeof email !== 'string' || typeof firstName !== 'string' ||
          typeof tv !== 'number' || typeof exp !== 'number'
        ) throw new TokenError('invalid');
        return { id, email, firstName, tv, exp };
      } catch (err) {
        if (err instanceof TokenError) throw err;
        if (err instanceof joseErrors.JWTExpired) throw new TokenError('expired');
        throw new TokenError('invalid');
      }
    },
  };
}

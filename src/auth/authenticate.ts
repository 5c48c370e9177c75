import type { TokenService, VerifiedToken } from './tokens.js';
import { TokenError } from './tokens.js';
import type { AuthState } from '../db/users.js';

export interface Principal<S extends AuthState = AuthState> {
  id: number;
  /** The account as the database has it now. */
  state: S;
  firstName: string;
  tokenVersion: number;
  /** Token expiry, seconds since the epoch. */
  exp: number;
}

export class AuthError extends Error {}

/** `Bearer <token>` → token, or undefined. */
export function bearerToken(header: string): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Signature and expiry (jose), then revocation (the database): a token is valid only while its
 * version equals the account's, which a password change or deletion bumps.
 */
export async function authenticate<S extends AuthState>(
  tokens: TokenService,
  load: (id: number) => Promise<S | undefined>,
  token: string | undefined,
): Promise<Principal<S>> {
  if (!token) throw new AuthError('Missing token');
  let claims: VerifiedToken;
  try {
    claims = await tokens.verify(token);
  } catch (err) {
    throw new AuthError(err instanceof TokenError && err.reason === 'expired' ? 'Token expired' : 'Invalid token');
  }
  const state = await load(claims.id);
  if (!state || state.deleted || state.tokenVersion !== claims.tv) throw new AuthError('Token revoked');
  return { id: claims.id, state, firstName: state.firstName, tokenVersion: state.tokenVersion, exp: claims.exp };
}

/** Real access tokens for seeded accounts, minted with the server's own token module and secret. */
import { createTokenService } from '../../src/auth/tokens.js';
import { benchEmail, benchFirstName } from './identity.js';

const TTL_SECONDS = 6 * 3600;

export async function mintTokens(secret: string, userIds: readonly number[]): Promise<string[]> {
  const service = createTokenService(secret, TTL_SECONDS);
  const tokens: string[] = [];
  // Sequential on purpose: signing is CPU-bound, so parallel promises would only add overhead.
  for (const id of userIds) tokens.push(await service.issue({ id, email: benchEmail(id), firstName: benchFirstName(id), tv: 0 }));
  return tokens;
}

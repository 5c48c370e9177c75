/**
 * How seeded bench accounts are named. The seed writes them in SQL and the generator mints
 * tokens from them; both sides must agree, so the rule lives here, in both languages.
 */
export const EMAIL_DOMAIN = 'bench.relay.test';

export function benchEmail(userId: number): string {
  return `u${userId}@${EMAIL_DOMAIN}`;
}

export function benchFirstName(userId: number): string {
  return `u${userId}`;
}

/** SQL expressions producing the same values from an integer column or expression `id`. */
export const sqlEmail = (id: string): string => `'u' || ${id} || '@${EMAIL_DOMAIN}'`;
export const sqlFirstName = (id: string): string => `'u' || ${id}`;

// postgres.js reports a lost or unreachable server with these codes (its own and Node's).
const UNAVAILABLE_CODES = new Set([
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH',
  // SQLSTATE class 57 (operator intervention: shutdown, crash recovery) and 08 (connection).
  '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004',
  // Ours (db/client.ts): refused without trying while the database is known to be down, and no answer in time.
  'DB_UNREACHABLE', 'QUERY_TIMEOUT',
]);

/** True when the database could not be reached, as opposed to a query it rejected. */
export function isStoreUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && UNAVAILABLE_CODES.has(code);
}

export const STORE_UNAVAILABLE = 'The message store is unavailable; try again shortly';

import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signature grants: the file's bytes or its thumbnail. */
export type FileVariant = 'f' | 't';

export interface FileSigner {
  /** The URL path (with its query) that lets anyone read the file until `exp`. */
  url(id: string, variant: FileVariant, exp: number): string;
  /** `valid`, or why not: no signature at all, or a bad or expired one. */
  check(id: string, variant: FileVariant, exp: string | null, sig: string | null, now?: number): 'valid' | 'absent' | 'invalid';
  /** The expiry to hand out now: the next whole minute past `ttl`, so replies within a minute share URLs (and caches). */
  expiry(now?: number): number;
  /** The key's two pads, for the SQL that signs in the statement (relay_file_sig in 009_files.sql). */
  readonly pads: { ipad: Buffer; opad: Buffer };
}

const BLOCK = 64;

/**
 * URL signatures: HMAC-SHA256 over `variant:id:exp` with a key of their own, derived from the
 * server's secret (so a signature can never be mistaken for a token, and the secret is not the
 * HMAC key of anything a client sees). The SQL twin (relay_file_sig) makes the same bytes.
 */
export function createSigner(secret: string, ttlSeconds: number): FileSigner {
  const key = createHmac('sha256', secret).update('relay file url signatures v1').digest();
  const padded = Buffer.alloc(BLOCK);
  key.copy(padded);
  const ipad = Buffer.from(padded.map((b) => b ^ 0x36));
  const opad = Buffer.from(padded.map((b) => b ^ 0x5c));
  const sign = (id: string, variant: FileVariant, exp: number | string): string =>
    createHmac('sha256', key).update(`${variant}:${id}:${exp}`).digest('hex');
  return {
    pads: { ipad, opad },
    expiry(now = Date.now()) {
      return Math.ceil((now / 1000 + ttlSeconds) / 60) * 60;
    },
    url(id, variant, exp) {
      return `/files/${id}${variant === 't' ? '/thumbnail' : ''}?exp=${exp}&sig=${sign(id, variant, exp)}`;
    },
    check(id, variant, exp, sig, now = Date.now()) {
      if (exp === null && sig === null) return 'absent';
      if (exp === null || sig === null || !/^\d{1,12}$/.test(exp) || !/^[0-9a-f]{64}$/.test(sig)) return 'invalid';
      const good = Buffer.from(sign(id, variant, exp), 'hex');
      if (!timingSafeEqual(good, Buffer.from(sig, 'hex'))) return 'invalid';
      return Number(exp) * 1000 > now ? 'valid' : 'invalid';
    },
  };
}

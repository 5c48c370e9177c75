import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { StoreClient } from './redis-store.js';
import { ClientError, ErrorCode } from './protocol.js';

export interface Limits {
  /** Counts one login or sign-up attempt against the caller's IP and the email; throws RATE_LIMITED past the limit. */
  authAttempt(ip: string, email: string | undefined): Promise<void>;
  /** Counts one upload against the account; throws RATE_LIMITED past UPLOAD_RATE_PER_MINUTE. */
  upload(userId: number): Promise<void>;
}

/**
 * Auth attempts per IP and per email, per minute. With Redis the counters are shared by the
 * cluster (an attacker cannot multiply the limit by the number of nodes).
 */
export function createLimits(
  perMinute: number,
  uploadsPerMinute: number,
  redis?: { client: StoreClient; prefix: string },
  /** Told of each attempt refused (metrics count them). */
  onRefused?: () => void,
): Limits {
  const make = (keyPrefix: string, points: number): RateLimiterAbstract =>
    redis
      ? new RateLimiterRedis({ storeClient: redis.client, keyPrefix: `${redis.prefix}rl:${keyPrefix}`, points, duration: 60,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration: 60 }) })
      : new RateLimiterMemory({ keyPrefix, points, duration: 60 });
  // An office behind one NAT shares an IP: allow it several times what one person needs.
  const byIp = make('auth-ip', perMinute * 5);
  const byEmail = make('auth-email', perMinute);
  const uploads = make('upload', uploadsPerMinute);

  const consume = async (limiter: RateLimiterAbstract, key: string, what = 'attempts', onOver = onRefused): Promise<void> => {
    try {
      await limiter.consume(key);
    } catch (res) {
      if (res instanceof RateLimiterRes) {
        onOver?.();
        throw new ClientError(ErrorCode.RATE_LIMITED, `Too many ${what}; try again later`, { retryAfterMs: res.msBeforeNext });
      }
      throw res;
    }
  };

  return {
    async authAttempt(ip, email) {
      await consume(byIp, ip);
      if (email) await consume(byEmail, email.toLowerCase());
    },
    async upload(userId) {
      await consume(uploads, String(userId), 'uploads', () => undefined);
    },
  };
}

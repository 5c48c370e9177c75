import type { Services } from '../../services.js';
import type { Route } from '../router.js';
import { json } from '../respond.js';

export function healthRoutes(s: Services): Route[] {
  return [
    { method: 'get', path: '/health', handle: () => json(200, { status: 'ok' }) },
    {
      method: 'get', path: '/ready',
      async handle() {
        if (s.isClosing()) return json(503, { status: 'closing' });
        const database = await Promise.race([
          s.sql`select 1`.then(() => true, () => false),
          new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref()),
        ]);
        const relay = s.pubsub.connected;
        const ok = database && relay;
        return json(ok ? 200 : 503, { status: ok ? 'ready' : 'unavailable', database, relay });
      },
    },
    {
      method: 'get', path: '/metrics',
      async handle() {
        return { status: 200, body: await s.metrics.render(), contentType: s.metrics.contentType };
      },
    },
  ];
}

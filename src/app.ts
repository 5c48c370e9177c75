import type { TemplatedApp } from 'uWebSockets.js';
import type { Services } from './services.js';
import { mountRoutes } from './http/router.js';
import { authRoutes } from './http/routes/auth.js';
import { profileRoutes } from './http/routes/profile.js';
import { userRoutes } from './http/routes/users.js';
import { healthRoutes } from './http/routes/health.js';
import { docsRoutes } from './http/routes/docs.js';
import { appRoutes } from './http/routes/app.js';
import { pushRoutes } from './http/routes/push.js';
import { fileRoutes } from './http/routes/files.js';
import { storageOrigins } from './files/open.js';
import { createWsBehavior } from './ws/connection.js';
import { bearerToken } from './auth/authenticate.js';

/** Mounts every HTTP route and the WebSocket behaviour on one uWS app. No logic of its own. */
export function mountApp(app: TemplatedApp, s: Services): void {
  app.ws('/*', createWsBehavior(s));
  mountRoutes(app, [...authRoutes(s), ...profileRoutes(s), ...userRoutes(s), ...healthRoutes(s), ...pushRoutes(s), ...fileRoutes(s), ...docsRoutes(), ...appRoutes(undefined, storageOrigins(s.config))], {
    log: s.log,
    maxBodyBytes: s.config.MAX_BODY_BYTES,
    track: (work) => s.inflight.track(work),
    onServerError: (_err, unavailable) => s.metrics.dbErrors.inc({ kind: unavailable ? 'unavailable' : 'other' }),
    authenticate: (header) => s.authenticate(bearerToken(header)),
  });
}

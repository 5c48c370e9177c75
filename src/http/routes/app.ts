import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../paths.js';
import type { Route } from '../router.js';
import { json, type Reply } from '../respond.js';

/** Where `npm run build` (web/build.mjs) writes the web app. */
export const WEB_DIR = path.join(packageRoot(), 'dist', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

// The app loads only its own script and style from this origin and talks to this origin's HTTP
// API and WebSocket ('self' covers ws:/wss: to the same host); no inline code, no framing. Images:
// its own and the files' thumbnails (this origin; blob: for previews), plus the storage's origin
// when downloads are redirected to S3 (an image's redirect is checked against img-src too). The
// service worker (notifications) is this origin's own script.
export const appCsp = (imageOrigins: readonly string[] = []): string => [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", ["img-src 'self' blob:", ...imageOrigins].join(' '), "connect-src 'self'",
  "manifest-src 'self'", "worker-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');
export const APP_CSP = appCsp();

/**
 * The web app at /app/: every file read once at start. Assets have content hashes in their names
 * (web/build.mjs), so browsers may keep them for a year; index.html names them, so it is
 * revalidated on every load and a new build is picked up at once.
 */
export function appRoutes(dir = WEB_DIR, imageOrigins: readonly string[] = []): Route[] {
  const csp = appCsp(imageOrigins);
  const assets = new Map<string, Reply>();
  let index: Reply | undefined;
  if (existsSync(path.join(dir, 'index.html'))) {
    index = { status: 200, body: readFileSync(path.join(dir, 'index.html')), contentType: TYPES['.html'], csp, cache: 'no-cache' };
    const assetDir = path.join(dir, 'assets');
    for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
      const type = TYPES[path.extname(name)];
      if (!type) continue;
      assets.set(name, {
        status: 200, body: readFileSync(path.join(assetDir, name)), contentType: type, csp,
        cache: 'public, max-age=31536000, immutable',
      });
    }
  }
  // The service worker (notifications), at a stable URL under /app/ so that its scope is the app.
  const swFile = path.join(dir, 'sw.js');
  const serviceWorker: Reply | undefined = existsSync(swFile)
    ? { status: 200, body: readFileSync(swFile), contentType: TYPES['.js'], csp: APP_CSP, cache: 'no-cache' }
    : undefined;
  const notBuilt = json(404, { error: true, message: 'The web app is not built: run npm run build', code: 'NOT_FOUND' });
  const notFound = json(404, { error: true, message: 'Not found', code: 'NOT_FOUND' });

  return [
    // Relative asset paths in index.html need the trailing slash.
    { method: 'get', path: '/app', handle: () => ({ status: 301, headers: [['Location', '/app/']] }) },
    { method: 'get', path: '/app/', handle: () => index ?? notBuilt },
    { method: 'get', path: '/app/sw.js', handle: () => serviceWorker ?? notBuilt },
    { method: 'get', path: '/app/assets/:file', handle: (req) => assets.get(req.url.slice('/app/assets/'.length)) ?? notFound },
  ];
}

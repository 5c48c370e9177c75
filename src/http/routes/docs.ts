import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Route } from '../router.js';
import { json, type Reply } from '../respond.js';
import { buildOpenApi } from '../openapi.js';

const require = createRequire(import.meta.url);
const UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.png': 'image/png',
};
// Only what index.html loads; nothing else of the package is served.
const ASSETS = ['index.html', 'index.css', 'swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png', 'favicon-16x16.png'];

// Our initializer replaces the package's (which points at the petstore demo).
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: './openapi.json', dom_id: '#swagger-ui', deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout'
  });
};
`;

/** The UI's files and the OpenAPI document, read and built on the first request for them, not at start. */
function loadDocs(): { files: Map<string, Reply>; openapi: Reply } {
  const files = new Map<string, Reply>();
  for (const name of ASSETS) {
    files.set(name, { status: 200, body: readFileSync(path.join(UI_DIR, name)), contentType: TYPES[path.extname(name)], docs: true,
      headers: [['Cache-Control', 'public, max-age=3600']] });
  }
  files.set('swagger-initializer.js', { status: 200, body: INITIALIZER, contentType: TYPES['.js'], docs: true });
  return { files, openapi: json(200, buildOpenApi()) };
}

export function docsRoutes(): Route[] {
  let docs: ReturnType<typeof loadDocs> | undefined;
  const loaded = () => (docs ??= loadDocs());
  const notFound = json(404, { error: true, message: 'Not found', code: 'NOT_FOUND' });

  return [
    // Relative asset paths in index.html need the trailing slash.
    { method: 'get', path: '/api', handle: () => ({ status: 301, headers: [['Location', '/api/']] }) },
    { method: 'get', path: '/api/', handle: () => loaded().files.get('index.html')! },
    { method: 'get', path: '/api/openapi.json', handle: () => loaded().openapi },
    { method: 'get', path: '/api/:file', handle: (req) => loaded().files.get(req.url.slice('/api/'.length)) ?? notFound },
  ];
}

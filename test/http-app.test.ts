// The web app's static files at /app/: content types, cache headers, the content security
// policy, and that index.html names only files the server has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useRelay } from './helpers/protocol.js';

const fx = useRelay('http_app');

const get = (path: string, init?: RequestInit): Promise<Response> => fetch(fx.relay.http + path, { redirect: 'manual', ...init });

test('/app redirects to /app/; /app/ is the page, revalidated on every load, under a strict CSP', async () => {
  const redirect = await get('/app');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/app/');

  const page = await get('/app/');
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  const csp = page.headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
  }
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, 'no inline code, no other origin');
  assert.ok(csp.includes("img-src 'self' blob:;"), `images: this origin (files, thumbnails) and blob: at most: ${csp}`);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const html = await page.text();
  assert.match(html, /<title>Relay<\/title>/);
  assert.doesNotMatch(html, /<script>|<style>|https?:\/\//, 'no inline script or style, nothing from a CDN');
});

test('every asset index.html names is served with its type and a year of immutable caching; others are 404', async () => {
  const html = await (await get('/app/')).text();
  const refs = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
  assert.equal(refs.length, 3, `one script, one stylesheet, the icon: ${refs.join(', ')}`);
  const types: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
  for (const ref of refs) {
    assert.match(ref, /-[A-Z0-9]{8}\.(js|css|svg)$/, 'a content hash in the name');
    const res = await get(`/app/${ref}`);
    assert.equal(res.status, 200, ref);
    assert.equal(res.headers.get('content-type'), types[ref.slice(ref.lastIndexOf('.'))]);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.ok((await res.arrayBuffer()).byteLength > (ref.endsWith('.svg') ? 100 : 1000));
  }
  const missing = await get('/app/assets/nope-12345678.js');
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).code, 'NOT_FOUND');
  assert.equal((await get('/app/assets/..%2F..%2Fsrc%2Fmain.js')).status, 404, 'no path outside the built files');
});

test('the API keeps its own headers: no-store and the locked-down CSP', async () => {
  const res = await get('/health');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
});

test('HEAD answers every GET route with the same status and headers and no body', async () => {
  for (const path of ['/app/', '/health']) {
    const [got, head] = [await get(path), await get(path, { method: 'HEAD' })];
    const body = await got.arrayBuffer();
    assert.equal(head.status, got.status, path);
    for (const h of ['content-type', 'cache-control', 'content-security-policy']) assert.equal(head.headers.get(h), got.headers.get(h), `${path} ${h}`);
    assert.equal(head.headers.get('content-length'), String(body.byteLength), `${path}: the length the body would have`);
    assert.equal((await head.arrayBuffer()).byteLength, 0, `${path}: no body`);
  }
  assert.equal((await get('/app/nothing-here', { method: 'HEAD' })).status, 404);
});

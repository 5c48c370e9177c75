// Builds the web app (web/src) into dist/web: one script and one stylesheet, content-hashed,
// and index.html naming them. Run by `npm run build` after the SDK (client/) is compiled.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '../dist/web');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { app: path.join(here, 'src/main.ts'), style: path.join(here, 'src/app.css') },
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  outdir: out,
  entryNames: 'assets/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

// The service worker keeps one URL (a browser updates a worker by fetching its URL again): built
// on its own, without a hash.
await build({
  entryPoints: [path.join(here, 'sw.js')], bundle: false, minify: true, outfile: path.join(out, 'sw.js'),
  target: ['chrome110', 'firefox110', 'safari16'], logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((f) => path.relative(out, path.resolve(f)));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`web build: missing outputs in ${outputs.join(', ')}`);
// The icon as a file of the app's own ('self': the CSP's img-src allows no data: URL), content-hashed
// like the others (they are cached for a year).
const iconSvg = readFileSync(path.join(here, 'icon.svg'));
const icon = `assets/icon-${createHash('sha256').update(iconSvg).digest('base64url').replace(/[^A-Za-z0-9]/g, '').slice(0, 8).toUpperCase()}.svg`;
writeFileSync(path.join(out, icon), iconSvg);
const html = readFileSync(path.join(here, 'index.html'), 'utf8').replace('%SCRIPT%', js).replace('%STYLE%', css).replace('%ICON%', icon);
writeFileSync(path.join(out, 'index.html'), html);
console.log(`web app built: dist/web/${js}, dist/web/${css}`);

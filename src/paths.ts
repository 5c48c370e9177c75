import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (where package.json, sql/ and dist/ are): the nearest folder above this module
 * that holds a package.json. Found by looking, not by counting folders, because this code runs
 * from src/ (tsx), from dist/src/ as tsc wrote it, and bundled into dist/src/main.js (src/build.mjs).
 */
export function packageRoot(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start, '..');
  }
}

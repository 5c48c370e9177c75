import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';

export type { Uws };

/**
 * Loads uWebSockets.js. The package we depend on falls back to a slow `ws` shim when its native
 * binary does not load, with only a console warning; Relay refuses that unless asked, since the
 * shim has neither the speed nor the backpressure behaviour the server is built on.
 */
export function loadUws(allowFallback: boolean): { uws: typeof Uws; native: boolean } {
  const require = createRequire(import.meta.url);
  const warn = console.warn;
  const notes: string[] = [];
  console.warn = (...args: unknown[]) => { notes.push(args.map(String).join(' ')); };
  let uws: typeof Uws;
  try {
    uws = require('uWebSockets.js') as typeof Uws;
  } finally {
    console.warn = warn;
  }
  // The native addon exports its C++ helpers (getParts, compressor constants); the shim does not.
  const native = typeof (uws as { getParts?: unknown }).getParts === 'function';
  if (!native && !allowFallback) {
    throw new Error(
      'uWebSockets.js native binary did not load, and the package fell back to its slow `ws` shim. ' +
      `Relay needs the native build (Node 20 on linux x64/arm64, darwin or win32 x64). ${notes.join(' ').trim()} ` +
      'Set UWS_ALLOW_FALLBACK=1 to run on the shim anyway (not for production).',
    );
  }
  return { uws, native };
}

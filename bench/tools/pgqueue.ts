/**
 * postgres.js's pool queue under saturation (issue 13): `select 1` from C concurrent callers on a
 * pool of 10, issued either straight (postgres.js pipelines what is past its pool onto busy
 * connections) or through an admission gate that hands it at most 10 at a time, as our client
 * could. Prints queries/s and this process's CPU per query; run it with --cpu-prof to see where
 * the time goes (Queue.remove straight, one write per query gated).
 *
 *   npm run build && node dist/bench/tools/pgqueue.js straight 50
 *   npm run build && node dist/bench/tools/pgqueue.js gated 50
 */
import postgres from 'postgres';
import { DEFAULT_ADMIN_URL } from '../lib/database.js';

const mode = process.argv[2] === 'gated' ? 'gated' : 'straight';
const concurrency = Number(process.argv[3] ?? 50);
const POOL = 10;
const BATCHES = 8;
const PER_BATCH = 10_000;

const sql = postgres(process.env['BENCH_ADMIN_URL'] ?? DEFAULT_ADMIN_URL, { max: POOL, prepare: true, onnotice: () => undefined });

let running = 0;
const waiting: (() => void)[] = [];
async function gated<T>(query: () => Promise<T>): Promise<T> {
  if (running >= POOL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await query();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const one = (): Promise<unknown> => (mode === 'gated' ? gated(() => sql`select 1 as x`) : sql`select 1 as x`);
let totalCpu = 0;
let totalSeconds = 0;
for (let batch = 0; batch < BATCHES; batch++) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < PER_BATCH) await one();
  }));
  const used = process.cpuUsage(cpu);
  totalCpu += used.user + used.system;
  totalSeconds += (performance.now() - started) / 1000;
}
console.log(`${mode}, ${concurrency} callers, pool ${POOL}: ${Math.round((BATCHES * PER_BATCH) / totalSeconds)} queries/s, ${(totalCpu / (BATCHES * PER_BATCH)).toFixed(1)} µs CPU per query`);
await sql.end({ timeout: 5 });

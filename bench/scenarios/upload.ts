/**
 * `upload`: POST /files to the local folder, C uploads at a time from C accounts: a round of
 * 1 MiB files and a round of 20 MiB files (200 of each by default). Figures per size: MB/s, the
 * server's CPU seconds per MB, and its RSS growth over the round (sampled every 50 ms against the
 * RSS before it): the body streams to disk, so 20 uploads of 20 MiB must not cost 400 MiB.
 * Uploaded files are orphans, swept within seconds (FILE_ORPHAN_TTL=1s) to keep the disk bounded.
 */
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mintTokens } from '../lib/tokens.js';
import { seedUsers } from '../lib/seed.js';
import { pickCount, type Cli } from '../lib/options.js';
import { cpuSeconds, rssBytes } from '../lib/procstat.js';
import { formatCount } from '../lib/report.js';
import type { WsTarget } from '../lib/wsclient.js';
import type { Scenario } from './types.js';

export interface UploadParams { concurrency: number; uploads: number; sizesMiB: number[] }

const PRESETS = {
  quick: { concurrency: 20, uploads: 200, sizesMiB: [1, 20] },
  full: { concurrency: 20, uploads: 400, sizesMiB: [1, 20] },
  smoke: { concurrency: 2, uploads: 4, sizesMiB: [1] },
} satisfies Record<Cli['preset'], UploadParams>;

const MiB = 1024 * 1024;

/** Server settings for this scenario: room for the files, no rate limit, orphans gone at once. */
export const UPLOAD_SERVER_ENV = {
  MAX_UPLOAD_BYTES: String(64 * MiB), UPLOAD_QUOTA_BYTES: String(2 ** 50), UPLOAD_RATE_PER_MINUTE: '1000000',
  FILE_ORPHAN_TTL: '1', FILE_SWEEP_MS: '500',
};

/** One upload of `size` bytes, written in 256 KiB pieces as the socket takes them; resolves with the status. */
function uploadOnce(target: WsTarget, token: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.host, port: target.port, method: 'POST', path: '/files?name=bench.bin', agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-length': String(body.length), 'content-type': 'application/octet-stream' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    const PIECE = 256 * 1024;
    let at = 0;
    const pump = (): void => {
      while (at < body.length) {
        const piece = body.subarray(at, at + PIECE);
        at += piece.length;
        if (!req.write(piece)) { req.once('drain', pump); return; }
      }
      req.end();
    };
    pump();
  });
}

export interface SizeFigures {
  sizeMiB: number; uploads: number; failed: number; seconds: number; mbPerSecond: number;
  serverCpuMsPerMB: number; rssBeforeMiB: number; rssPeakMiB: number; rssGrowthMiB: number;
}

async function round(target: WsTarget, pid: number, tokens: string[], sizeMiB: number, uploads: number): Promise<SizeFigures> {
  const body = randomBytes(sizeMiB * MiB);
  const rssBefore = rssBytes(pid) ?? 0;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssBytes(pid) ?? 0); }, 50);
  const cpuBefore = cpuSeconds(pid) ?? 0;
  const started = performance.now();
  let next = 0;
  let failed = 0;
  await Promise.all(tokens.map(async (token) => {
    while (next < uploads) {
      next++;
      const status = await uploadOnce(target, token, body).catch(() => 0);
      if (status !== 201) failed++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const cpu = (cpuSeconds(pid) ?? 0) - cpuBefore;
  const mb = (uploads * sizeMiB * MiB) / 1e6;
  const toMiB = (n: number): number => Math.round((n / MiB) * 10) / 10;
  return {
    sizeMiB, uploads, failed, seconds: Math.round(seconds * 10) / 10, mbPerSecond: Math.round(mb / seconds),
    serverCpuMsPerMB: Math.round((cpu * 1000 / mb) * 100) / 100,
    rssBeforeMiB: toMiB(rssBefore), rssPeakMiB: toMiB(rssPeak), rssGrowthMiB: toMiB(rssPeak - rssBefore),
  };
}

export const uploadScenario: Scenario<UploadParams> = {
  name: 'upload',
  serverEnv: UPLOAD_SERVER_ENV,

  configure(cli) {
    const preset = PRESETS[cli.preset];
    return { ...preset, concurrency: pickCount(cli, 'concurrency', preset.concurrency), uploads: pickCount(cli, 'messages', preset.uploads) };
  },

  describe: (p) => `${p.concurrency} concurrent uploads, ${p.uploads} each of ${p.sizesMiB.join(' and ')} MiB, local folder`,

  budgetMs: (p) => 120_000 + p.uploads * p.sizesMiB.reduce((a, b) => a + b, 0) * 100,

  async run({ env }, params) {
    const target = env.targets[0];
    const pid = env.serverPids[0];
    if (!target || pid === undefined) throw new Error('upload measures a server the bench started (not --url)');
    const users = await seedUsers(env.sql, params.concurrency);
    const tokens = await mintTokens(env.secret, Array.from({ length: params.concurrency }, (_, i) => users.first + i));
    const sizes: SizeFigures[] = [];
    for (const sizeMiB of params.sizesMiB) sizes.push(await round(target, pid, tokens, sizeMiB, params.uploads));
    return { figures: { sizes }, lines: linesOf(sizes) };
  },
};

function linesOf(sizes: SizeFigures[]): string[] {
  return sizes.map((s) =>
    `${String(s.sizeMiB).padStart(3)} MiB × ${s.uploads}: ${formatCount(s.mbPerSecond)} MB/s, server CPU ${s.serverCpuMsPerMB} ms/MB, ` +
    `RSS ${s.rssBeforeMiB} → peak ${s.rssPeakMiB} MiB (+${s.rssGrowthMiB})${s.failed > 0 ? `, ${s.failed} FAILED` : ''}`);
}

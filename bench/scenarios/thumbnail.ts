/**
 * `thumbnail`: 12-megapixel JPEGs (4000x3000, photo-like detail) made into the upload path's
 * WebP thumbnail (src/files/probe.ts), one at a time in this process: thumbnails per second per
 * core (libvips runs one thread per image here, as the server configures it); then the same
 * images uploaded to the server C at a time: uploads with thumbnail per second and the server's
 * CPU per thumbnail.
 */
import { request } from 'node:http';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { makeThumbnail } from '../../src/files/probe.js';
import { mintTokens } from '../lib/tokens.js';
import { seedUsers } from '../lib/seed.js';
import { pickCount, type Cli } from '../lib/options.js';
import { cpuSeconds } from '../lib/procstat.js';
import type { WsTarget } from '../lib/wsclient.js';
import type { Scenario } from './types.js';
import { UPLOAD_SERVER_ENV } from './upload.js';

export interface ThumbnailParams { images: number; concurrency: number }

const PRESETS = {
  quick: { images: 20, concurrency: 2 },
  full: { images: 60, concurrency: 2 },
  smoke: { images: 2, concurrency: 1 },
} satisfies Record<Cli['preset'], ThumbnailParams>;

/** A 12 MP JPEG with detail everywhere (noise, softened), about what a phone camera writes. */
async function photo(seed: number): Promise<Buffer> {
  const width = 4000;
  const height = 3000;
  const raw = Buffer.alloc(width * height * 3);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < raw.length; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    raw[i] = (x >>> 24) & 0xff;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).blur(1.2).jpeg({ quality: 88 }).toBuffer();
}

function upload(target: WsTarget, token: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.host, port: target.port, method: 'POST', path: '/files?name=photo.jpg', agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const thumbnailScenario: Scenario<ThumbnailParams> = {
  name: 'thumbnail',
  serverEnv: UPLOAD_SERVER_ENV,

  configure(cli) {
    const preset = PRESETS[cli.preset];
    return { images: pickCount(cli, 'messages', preset.images), concurrency: pickCount(cli, 'concurrency', preset.concurrency) };
  },

  describe: (p) => `${p.images} JPEGs of 12 MP: thumbnails in process, then uploaded ${p.concurrency} at a time`,

  budgetMs: (p) => 120_000 + p.images * 6_000,

  async run({ env }, params) {
    const target = env.targets[0];
    const pid = env.serverPids[0];
    if (!target || pid === undefined) throw new Error('thumbnail measures a server the bench started (not --url)');
    const photos = await Promise.all([0, 1, 2, 3].map(photo));
    const avgMB = photos.reduce((n, p) => n + p.length, 0) / photos.length / 1e6;

    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < params.images; i++) {
      const made = await makeThumbnail(Readable.from([photos[i % photos.length]!]), 40_000_000);
      if (!made) throw new Error('a 12 MP JPEG got no thumbnail');
    }
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpuBefore);
    const cpu = (used.user + used.system) / 1e6;

    const users = await seedUsers(env.sql, params.concurrency);
    const tokens = await mintTokens(env.secret, Array.from({ length: params.concurrency }, (_, i) => users.first + i));
    const serverBefore = cpuSeconds(pid) ?? 0;
    const upStarted = performance.now();
    let next = 0;
    let failed = 0;
    await Promise.all(tokens.map(async (token) => {
      while (next < params.images) {
        const body = photos[next++ % photos.length]!;
        const res = await upload(target, token, body).catch(() => ({ status: 0, text: '' }));
        if (res.status !== 201 || !res.text.includes('/thumbnail?')) failed++;
      }
    }));
    const upWall = (performance.now() - upStarted) / 1000;
    const serverCpu = (cpuSeconds(pid) ?? 0) - serverBefore;

    const figures = {
      jpegMB: Math.round(avgMB * 100) / 100,
      thumbnailsPerSecond: Math.round((params.images / wall) * 100) / 100,
      thumbnailsPerCoreSecond: Math.round((params.images / cpu) * 100) / 100,
      uploadsPerSecond: Math.round((params.images / upWall) * 100) / 100,
      serverCpuMsPerThumbnail: Math.round((serverCpu * 1000) / params.images),
      failed,
    };
    const lines = [
      `12 MP JPEG (${figures.jpegMB} MB) → WebP ≤320: ${figures.thumbnailsPerSecond}/s in one thread, ${figures.thumbnailsPerCoreSecond} per CPU-second`,
      `through the server, ${params.concurrency} at a time: ${figures.uploadsPerSecond} uploads/s, server CPU ${figures.serverCpuMsPerThumbnail} ms each` +
        (failed > 0 ? `, ${failed} FAILED` : ''),
    ];
    return { figures, lines };
  },
};

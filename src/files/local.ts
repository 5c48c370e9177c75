import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { NotStored, type ByteRange, type FileStorage } from './storage.js';

/**
 * Files in a local folder: `<dir>/<first two characters of the key>/<key>` (one flat folder of
 * millions of entries is slow to list and back up). A file is written under a temporary name in
 * `<dir>/tmp` and renamed into place once complete: a crash or an abandoned upload never leaves a
 * partial file under a real key (and a restart may empty tmp/).
 */
export async function createLocalStorage(dir: string): Promise<FileStorage> {
  const tmp = path.join(dir, 'tmp');
  await mkdir(tmp, { recursive: true });
  const where = (key: string): string => path.join(dir, key.slice(0, 2), key);

  return {
    kind: 'local',
    async put(key, body) {
      const temp = path.join(tmp, `${randomBytes(12).toString('hex')}.part`);
      try {
        // The stream's own backpressure: pipeline reads only as fast as the disk writes.
        await pipeline(body, createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
        await mkdir(path.dirname(where(key)), { recursive: true });
        await rename(temp, where(key));
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },
    async read(key, range?: ByteRange) {
      const file = where(key);
      try {
        await stat(file);
      } catch {
        throw new NotStored(key);
      }
      return createReadStream(file, range ? { start: range.start, end: range.end } : {}) as Readable;
    },
    async delete(key) {
      await rm(where(key), { force: true });
    },
    async presign() {
      return undefined;
    },
    close() {},
  };
}
